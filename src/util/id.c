/* id.c: random ids and SHA-256 digests. */
#include "util.h"

#include <errno.h>
#include <sys/random.h>

void mk_hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

char *mk_random_hex(size_t n)
{
    unsigned char raw[128];
    size_t bytes = (n + 1) / 2;
    if (bytes > sizeof(raw))
        bytes = sizeof(raw);
    size_t got = 0;
    while (got < bytes) {
        ssize_t r = getrandom(raw + got, bytes - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            abort();
        }
        got += (size_t)r;
    }
    char *out = xmalloc(2 * bytes + 1);
    mk_hex_encode(raw, bytes, out);
    out[n] = '\0';
    return out;
}
