/* sha256.c: SHA-256 (FIPS 180-4), for image digests, blob names and cache keys.
 *
 * Our own, so that the core binary needs no libcrypto: loading it costs every
 * mocker process about half a millisecond, which `run` pays twice.
 *
 * A pull hashes every layer twice (compressed and not), and the portable code
 * does ~300 MB/s here: most of a pull's CPU.  x86's SHA extensions (SHA-NI,
 * on every recent Intel and AMD CPU) do ~1.5 GB/s, so blocks go through them
 * when the CPU has them. */
#include "util/util.h"

#include <string.h>
#if defined(__x86_64__)
#include <sys/platform/x86.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

static inline uint32_t ror(uint32_t x, int n)
{
    return (x >> n) | (x << (32 - n));
}

static void compress_one(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

static void blocks_portable(uint32_t h[8], const unsigned char *p, size_t n)
{
    for (; n > 0; n--, p += 64)
        compress_one(h, p);
}

#if defined(__x86_64__)
/* The SHA-NI round instructions keep the state as two vectors, ABEF and CDGH
 * (a in the high lane), and take the message schedule four words at a time:
 * sha256msg1/msg2 compute W[t] from the previous sixteen. */
__attribute__((target("sha,sse4.1"))) static void blocks_shani(uint32_t h[8],
                                                               const unsigned char *p, size_t n)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i dcba = _mm_loadu_si128((const __m128i *)&h[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&h[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
    for (; n > 0; n--, p += 64) {
        __m128i abef0 = abef, cdgh0 = cdgh, m[4];
        for (int g = 0; g < 16; g++) {
            __m128i *cur = &m[g & 3];
            if (g < 4)
                *cur = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
            __m128i k = _mm_loadu_si128((const __m128i *)&K[4 * g]);
            __m128i wk = _mm_add_epi32(*cur, k);
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            if (g >= 3 && g <= 14) { /* W for the next group */
                __m128i *next = &m[(g + 1) & 3];
                __m128i t = _mm_alignr_epi8(*cur, m[(g + 3) & 3], 4);
                *next = _mm_sha256msg2_epu32(_mm_add_epi32(*next, t), *cur);
            }
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
            if (g >= 1 && g <= 12) { /* first half of the schedule three groups on */
                __m128i *prev = &m[(g + 3) & 3];
                *prev = _mm_sha256msg1_epu32(*prev, *cur);
            }
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(dchg, feba, 8));
}

/* From what glibc found at startup: a cpuid here is a VM exit (~15 us) in
 * the virtual machines mocker often runs in. */
static bool cpu_has_shani(void)
{
    return CPU_FEATURE_ACTIVE(SHA) && CPU_FEATURE_ACTIVE(SSE4_1) && CPU_FEATURE_ACTIVE(SSSE3);
}
#endif

typedef void blocks_fn(uint32_t h[8], const unsigned char *p, size_t n);
static blocks_fn *blocks_impl;

static blocks_fn *pick_blocks(void)
{
#if defined(__x86_64__)
    if (cpu_has_shani())
        return blocks_shani;
#endif
    return blocks_portable;
}

static void compress(uint32_t h[8], const unsigned char *p, size_t n)
{
    blocks_fn *f = __atomic_load_n(&blocks_impl, __ATOMIC_RELAXED);
    if (f == NULL) {
        f = pick_blocks();
        __atomic_store_n(&blocks_impl, f, __ATOMIC_RELAXED);
    }
    f(h, p, n);
}

bool mk_sha256_accelerated(bool use)
{
    blocks_fn *best = pick_blocks();
    __atomic_store_n(&blocks_impl, use ? best : blocks_portable, __ATOMIC_RELAXED);
    return best != blocks_portable;
}

void mk_sha256_init(struct mk_sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof(iv));
    s->len = 0;
    s->n = 0;
}

void mk_sha256_update(struct mk_sha256 *s, const void *data, size_t len)
{
    const unsigned char *p = data;
    s->len += len;
    if (s->n > 0) {
        size_t take = 64 - s->n < len ? 64 - s->n : len;
        memcpy(s->buf + s->n, p, take);
        s->n += take;
        p += take;
        len -= take;
        if (s->n < 64)
            return;
        compress(s->h, s->buf, 1);
        s->n = 0;
    }
    if (len >= 64) {
        compress(s->h, p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    memcpy(s->buf, p, len);
    s->n = len;
}

void mk_sha256_final(struct mk_sha256 *s, unsigned char out[32])
{
    uint64_t bits = s->len * 8;
    unsigned char pad = 0x80;
    mk_sha256_update(s, &pad, 1);
    pad = 0;
    while (s->n != 56)
        mk_sha256_update(s, &pad, 1);
    unsigned char be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (unsigned char)(bits >> (56 - 8 * i));
    mk_sha256_update(s, be, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(s->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)s->h[i];
    }
}

void mk_sha256_hex(struct mk_sha256 *s, char out[65])
{
    unsigned char md[32];
    mk_sha256_final(s, md);
    mk_hex_encode(md, sizeof(md), out);
}

char *mk_sha256_digest(const void *data, size_t len)
{
    struct mk_sha256 s;
    char hex[65];
    mk_sha256_init(&s);
    mk_sha256_update(&s, data, len);
    mk_sha256_hex(&s, hex);
    return xasprintf("sha256:%s", hex);
}
