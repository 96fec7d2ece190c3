/* nftables.h: the part of libnftables' API that firewall.c calls.
 *
 * Declared here, as libnftables(3) documents them, so that building mocker
 * needs only the runtime library (libnftables1), not libnftables-dev: the
 * API is eight functions and two flags.  nft_shim.c loads the library on
 * first use. */
#ifndef MK_NETWORK_NFTABLES_H
#define MK_NETWORK_NFTABLES_H

#include <stdint.h>

struct nft_ctx;

#define NFT_CTX_DEFAULT       0
#define NFT_CTX_OUTPUT_HANDLE (1u << 3)
#define NFT_CTX_OUTPUT_JSON   (1u << 4)

struct nft_ctx *nft_ctx_new(uint32_t flags);
void nft_ctx_free(struct nft_ctx *ctx);
void nft_ctx_output_set_flags(struct nft_ctx *ctx, unsigned int flags);
int nft_ctx_buffer_output(struct nft_ctx *ctx);
int nft_ctx_buffer_error(struct nft_ctx *ctx);
const char *nft_ctx_get_output_buffer(struct nft_ctx *ctx);
const char *nft_ctx_get_error_buffer(struct nft_ctx *ctx);
int nft_run_cmd_from_buffer(struct nft_ctx *nft, const char *buf);

#endif
