/* base64.c: RFC 4648 standard base64 (with padding), as Go's
 * base64.StdEncoding reads and writes it: docker's config.json keeps
 * "user:password" this way. */
#include "util.h"

#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *mk_base64_encode(const void *data, size_t len)
{
    const unsigned char *in = data;
    char *out = xmalloc((len + 2) / 3 * 4 + 1);
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

static int sextet(char c)
{
    const char *p = c != '\0' ? strchr(alphabet, c) : NULL;
    return p != NULL ? (int)(p - alphabet) : -1;
}

int mk_base64_decode(const char *s, char **out, size_t *out_len, mk_err **err)
{
    /* Go's decoder skips CR and LF wherever they are, and nothing else. */
    size_t n = 0;
    _cleanup_free_ char *clean = xmalloc(strlen(s) + 1);
    for (const char *p = s; *p; p++)
        if (*p != '\r' && *p != '\n')
            clean[n++] = *p;
    if (n % 4 != 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "illegal base64 data: length %zu is not a multiple of 4", n);
    size_t pad = 0;
    if (n > 0 && clean[n - 1] == '=')
        pad = n > 1 && clean[n - 2] == '=' ? 2 : 1;
    char *buf = xmalloc(n / 4 * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            bool is_pad = i + 4 == n && k >= 4 - pad;
            int x = is_pad ? 0 : sextet(clean[i + k]);
            if (x < 0) {
                free(buf);
                return mk_err_set(err, MK_ERR_INVALID, "illegal base64 data at input byte %zu",
                                  i + k);
            }
            v = v << 6 | (uint32_t)x;
        }
        buf[o++] = (char)(v >> 16);
        buf[o++] = (char)(v >> 8);
        buf[o++] = (char)v;
    }
    o -= pad;
    buf[o] = '\0';
    *out = buf;
    if (out_len != NULL)
        *out_len = o;
    return 0;
}
