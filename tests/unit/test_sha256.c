/* test_sha256.c: util/sha256.c against the FIPS 180-4 example vectors, and
 * streaming in uneven pieces against one-shot hashing. */
#include "tap.h"
#include "util/util.h"

#include <stdlib.h>

static void hex_of(const void *data, size_t len, char out[65])
{
    struct mk_sha256 s;
    mk_sha256_init(&s);
    mk_sha256_update(&s, data, len);
    mk_sha256_hex(&s, out);
}

static void test_vectors(void)
{
    char hex[65];
    hex_of("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(m448, strlen(m448), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    hex_of(million, 1000000, hex);
    free(million);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Every length around the 55/56/64-byte padding edges, fed in pieces of 1..13. */
static void test_streaming(void)
{
    unsigned char buf[200];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof(buf); len++) {
        char one[65], parts[65];
        hex_of(buf, len, one);
        struct mk_sha256 s;
        mk_sha256_init(&s);
        size_t off = 0, step = 1;
        while (off < len) {
            size_t n = step < len - off ? step : len - off;
            mk_sha256_update(&s, buf + off, n);
            off += n;
            step = step % 13 + 1;
        }
        mk_sha256_hex(&s, parts);
        if (strcmp(one, parts) != 0)
            FAIL_AT("length %zu: %s != %s", len, one, parts);
    }
}

static void test_digest(void)
{
    char *d = mk_sha256_digest("abc", 3);
    CHECK_STR(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    free(d);
}

/* The CPU's SHA instructions and the portable code agree on every length
 * up to several blocks and on a large buffer, fed whole and in pieces. */
static void test_accelerated_matches_portable(void)
{
    if (!mk_sha256_accelerated(true)) {
        printf("# this CPU has no SHA instructions: only the portable code ran\n");
        return;
    }
    size_t big = 1 << 20;
    unsigned char *buf = malloc(big);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < big; i++) { /* xorshift: not all zero, not periodic */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (unsigned char)x;
    }
    size_t lens[] = {0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 4096, 65537, 1 << 20};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char fast[65], slow[65];
        mk_sha256_accelerated(true);
        hex_of(buf, lens[i], fast);
        mk_sha256_accelerated(false);
        hex_of(buf, lens[i], slow);
        if (strcmp(fast, slow) != 0) {
            free(buf);
            mk_sha256_accelerated(true);
            FAIL_AT("length %zu: accelerated %s, portable %s", lens[i], fast, slow);
        }
    }
    mk_sha256_accelerated(true);
    free(buf);
}

static void json_hex(const char *text, char out[65])
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    struct mk_sha256 h;
    mk_sha256_init(&h);
    mk_json_hash(v, &h);
    mk_sha256_hex(&h, out);
    json_decref(v);
}

/* mk_json_hash: the same value, the same digest; values that a plain
 * concatenation of their texts would confuse, different ones. */
static void test_json_hash(void)
{
    static const char *const differ[][2] = {
        {"[\"ab\",\"c\"]", "[\"a\",\"bc\"]"},
        {"\"1\"", "1"},
        {"1", "1.0"},
        {"[]", "{}"},
        {"null", "false"},
        {"{\"a\":[1]}", "{\"a\":1}"},
        {"{\"a\":1,\"b\":2}", "{\"ab\":12}"},
        {"[[1],2]", "[[1,2]]"},
    };
    for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
        char a[65], b[65];
        json_hex(differ[i][0], a);
        json_hex(differ[i][1], b);
        if (strcmp(a, b) == 0)
            FAIL_AT("%s and %s hash alike", differ[i][0], differ[i][1]);
    }
    char a[65], b[65];
    json_hex("{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"}", a);
    json_hex("{ \"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\" }", b);
    if (strcmp(a, b) != 0)
        FAIL_AT("the same value hashed twice: %s, %s", a, b);
}

int main(void)
{
    RUN(test_vectors);
    RUN(test_streaming);
    RUN(test_digest);
    RUN(test_accelerated_matches_portable);
    RUN(test_json_hash);
    mk_sha256_accelerated(false);
    RUN(test_vectors);
    RUN(test_streaming);
    return tap_done();
}
