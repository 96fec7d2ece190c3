/* nft_shim.c: the libnftables functions mocker calls, loaded on first use (see
 * util/lazylib.c): libnftables brings libnftnl, libmnl, libxtables and libgmp
 * with it (~0.6 ms to load), and only commands that set up bridge networks or
 * published ports touch the firewall. */
#include "network/nftables.h"
#include "util/lazylib.h"

#include <stddef.h>

struct mk_lazylib mk_lazy_libnftables = {"libnftables.so.1", "libnftables1", NULL};

MK_LAZY_FN(mk_lazy_libnftables, struct nft_ctx *, nft_ctx_new, (uint32_t flags), (flags))
MK_LAZY_VOID(mk_lazy_libnftables, nft_ctx_free, (struct nft_ctx * ctx), (ctx))
MK_LAZY_VOID(mk_lazy_libnftables, nft_ctx_output_set_flags, (struct nft_ctx * ctx, unsigned int flags),
             (ctx, flags))
MK_LAZY_FN(mk_lazy_libnftables, int, nft_ctx_buffer_output, (struct nft_ctx * ctx), (ctx))
MK_LAZY_FN(mk_lazy_libnftables, int, nft_ctx_buffer_error, (struct nft_ctx * ctx), (ctx))
MK_LAZY_FN(mk_lazy_libnftables, const char *, nft_ctx_get_output_buffer, (struct nft_ctx * ctx), (ctx))
MK_LAZY_FN(mk_lazy_libnftables, const char *, nft_ctx_get_error_buffer, (struct nft_ctx * ctx), (ctx))
MK_LAZY_FN(mk_lazy_libnftables, int, nft_run_cmd_from_buffer, (struct nft_ctx * nft, const char *buf),
           (nft, buf))
