/* test_dns.c: the embedded DNS server.  The parser against well-formed,
 * compressed, looping, truncated, oversized and random messages; replies
 * decoded back; then the server over loopback, driven the way the monitor
 * drives it (poll its fd, process, honour its timeout): UDP and TCP answers
 * from the lookup callback, AAAA and MX of known names, PTR, forwarding to a
 * fake upstream that this test plays (UDP and TCP), upstream timeouts,
 * SERVFAIL and refused ports, garbage ignored, and the bounds on pending
 * queries and TCP clients.  As root, busybox's nslookup asks the server bound
 * at 127.0.0.11:53 in a fresh network namespace, as a container would. */
#include "network/network.h"
#include "tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

static uint16_t g16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* A query for name (dotted; "" the root), RD set, an OPT record if edns. */
static size_t mkq(uint8_t *b, uint16_t id, const char *name, uint16_t qtype, uint16_t edns)
{
    memset(b, 0, 12);
    b[0] = (uint8_t)(id >> 8);
    b[1] = (uint8_t)id;
    b[2] = 0x01;
    b[5] = 1;
    size_t o = 12;
    for (const char *p = name; *p != '\0';) {
        const char *d = strchr(p, '.');
        size_t l = d != NULL ? (size_t)(d - p) : strlen(p);
        b[o++] = (uint8_t)l;
        memcpy(b + o, p, l);
        o += l;
        p += l + (d != NULL);
    }
    b[o++] = 0;
    b[o++] = (uint8_t)(qtype >> 8);
    b[o++] = (uint8_t)qtype;
    b[o++] = 0;
    b[o++] = 1;
    if (edns) {
        b[11] = 1;
        uint8_t opt[] = {0, 0, 41, (uint8_t)(edns >> 8), (uint8_t)edns, 0, 0, 0, 0, 0, 0};
        memcpy(b + o, opt, sizeof(opt));
        o += sizeof(opt);
    }
    return o;
}

struct reply {
    uint16_t id, flags;
    int rcode, tc, ancount, na;
    uint32_t a[300];
    char ptr[256];
    char qname[1024];
};

/* Decode a reply: the header and question through the parser, the answers
 * by hand (any owner name, A and PTR rdata). */
static int decode(const uint8_t *b, size_t len, struct reply *r)
{
    struct mk_dns_query q;
    memset(r, 0, sizeof(*r));
    if (mk_dns_parse_query(b, len, &q, NULL) < 0)
        return -1;
    r->id = q.id;
    r->flags = q.flags;
    r->rcode = q.flags & 0xf;
    r->tc = (q.flags >> 9) & 1;
    r->ancount = g16(b + 6);
    snprintf(r->qname, sizeof(r->qname), "%s", q.name);
    size_t o = 12 + q.wire_len + 4;
    for (int i = 0; i < r->ancount; i++) {
        while (o < len && b[o] != 0 && (b[o] & 0xc0) != 0xc0)
            o += 1 + b[o];
        o += o < len && b[o] == 0 ? 1 : 2;
        if (o + 10 > len)
            return -1;
        uint16_t type = g16(b + o), class = g16(b + o + 2), rdlen = g16(b + o + 8);
        uint32_t ttl = (uint32_t)g16(b + o + 4) << 16 | g16(b + o + 6);
        o += 10;
        if (o + rdlen > len || class != 1 || ttl != MK_DNS_TTL)
            return -1;
        if (type == MK_DNS_TYPE_A && rdlen == 4 && r->na < 300)
            r->a[r->na++] = (uint32_t)g16(b + o) << 16 | g16(b + o + 2);
        if (type == MK_DNS_TYPE_PTR) {
            size_t p = o, t = 0;
            while (p < o + rdlen && b[p] != 0 && t + b[p] + 2 < sizeof(r->ptr)) {
                memcpy(r->ptr + t, b + p + 1, b[p]);
                t += b[p];
                r->ptr[t++] = '.';
                p += 1 + b[p];
            }
            r->ptr[t] = '\0';
        }
        o += rdlen;
    }
    return o == len ? 0 : -1;
}

/* ---- parsing ---- */

static void test_parse_query(void)
{
    uint8_t b[512];
    size_t n = mkq(b, 0xbeef, "Web.MyNet", MK_DNS_TYPE_A, 0);
    struct mk_dns_query q;
    _cleanup_err_ mk_err *err = NULL;
    CHECK(mk_dns_parse_query(b, n, &q, &err) == 0);
    CHECK_INT(q.id, 0xbeef);
    CHECK_INT(q.flags, 0x0100);
    CHECK_INT(q.qtype, MK_DNS_TYPE_A);
    CHECK_INT(q.qclass, 1);
    CHECK_INT(q.udp_size, 0);
    CHECK_STR(q.name, "web.mynet");
    CHECK_INT(q.wire_len, 11);
    CHECK(memcmp(q.wire, "\3Web\5MyNet", 11) == 0); /* case kept for the reply */

    n = mkq(b, 1, "example.com", MK_DNS_TYPE_AAAA, 1232);
    CHECK(mk_dns_parse_query(b, n, &q, &err) == 0);
    CHECK_INT(q.udp_size, 1232);
    CHECK_INT(q.qtype, MK_DNS_TYPE_AAAA);

    n = mkq(b, 1, "", MK_DNS_TYPE_A, 0);
    CHECK(mk_dns_parse_query(b, n, &q, &err) == 0);
    CHECK_STR(q.name, "");
    CHECK_INT(q.wire_len, 1);
}

static void test_parse_escapes(void)
{
    /* "a.b" as one label, a space, a backslash and a high byte: never the text of another name */
    uint8_t b[64] = {0,   1,   0,   0, 0,   1,    0,    0,   0, 0, 0, 0, 3,
                     'a', '.', 'B', 4, ' ', '\\', 0xff, 'x', 0, 0, 1, 0, 1};
    struct mk_dns_query q;
    CHECK(mk_dns_parse_query(b, 26, &q, NULL) == 0);
    CHECK_STR(q.name, "a\\046b.\\032\\092\\255x");
}

static void test_parse_compression(void)
{
    /* The id's bytes read as the name "a": the question "www" points at offset 0. */
    uint8_t b[128] = {1, 'a', 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 3, 'w', 'w', 'w', 0xc0, 0, 0, 1, 0, 1};
    size_t n = 22;
    /* An answer owned by a pointer to the question (two levels), then an OPT:
     * the OPT is only found if both jumps return to the right place. */
    uint8_t an[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4};
    memcpy(b + n, an, sizeof(an));
    n += sizeof(an);
    uint8_t opt[] = {0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0};
    memcpy(b + n, opt, sizeof(opt));
    n += sizeof(opt);
    struct mk_dns_query q;
    _cleanup_err_ mk_err *err = NULL;
    CHECK(mk_dns_parse_query(b, n, &q, &err) == 0);
    CHECK_STR(q.name, "www.a");
    CHECK_INT(q.wire_len, 7);
    CHECK_INT(q.qtype, 1);
    CHECK_INT(q.udp_size, 1024);
}

static void test_parse_loops(void)
{
    struct mk_dns_query q;
    _cleanup_err_ mk_err *err = NULL;
    /* The question's name points at itself. */
    uint8_t self[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    CHECK(mk_dns_parse_query(self, sizeof(self), &q, &err) < 0);
    CHECK(strstr(err->msg, "does not point backwards") != NULL);
    mk_err_clear(&err);
    /* Forwards, to a pointer back to it. */
    uint8_t fwd[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 18, 0, 1, 0, 1, 0xc0, 12};
    CHECK(mk_dns_parse_query(fwd, sizeof(fwd), &q, &err) < 0);
    mk_err_clear(&err);
    /* Into the header, where the bytes point back into the question: the id
     * reads as a pointer to offset 12 (past the header, so not backwards). */
    uint8_t hdr[] = {0xc0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'x', 0xc0, 0, 0, 1, 0, 1};
    CHECK(mk_dns_parse_query(hdr, sizeof(hdr), &q, &err) < 0);
    mk_err_clear(&err);
    /* A looping owner in the answer section: the question parses, EDNS is not read. */
    uint8_t ans[] = {0, 1, 0,    0,  0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1,
                     0, 1, 0xc0, 17, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, /* answer owner: itself */
                     0, 0, 41,   4,  0, 0, 0, 0, 0, 0, 0};
    CHECK(mk_dns_parse_query(ans, sizeof(ans), &q, &err) == 0);
    CHECK_INT(q.udp_size, 0);
}

static void test_parse_truncated(void)
{
    uint8_t b[512];
    size_t n = mkq(b, 7, "some.example.org", MK_DNS_TYPE_A, 0);
    struct mk_dns_query q;
    for (size_t len = 0; len < n; len++) {
        _cleanup_err_ mk_err *err = NULL;
        if (mk_dns_parse_query(b, len, &q, &err) == 0)
            FAIL_AT("a %zu-byte prefix of a %zu-byte query parsed", len, n);
        CHECK(err != NULL && err->kind == MK_ERR_INVALID);
    }
    CHECK(mk_dns_parse_query(b, n, &q, NULL) == 0);
    /* A truncated OPT record: the question still parses, without EDNS. */
    n = mkq(b, 7, "a.b", MK_DNS_TYPE_A, 4096);
    CHECK(mk_dns_parse_query(b, n, &q, NULL) == 0 && q.udp_size == 4096);
    CHECK(mk_dns_parse_query(b, n - 1, &q, NULL) == 0 && q.udp_size == 0);
}

/* A query whose name has four labels of these lengths. */
static size_t name_of_labels(uint8_t *b, int l1, int l2, int l3, int l4)
{
    int lens[] = {l1, l2, l3, l4};
    memset(b, 0, 12);
    b[5] = 1;
    size_t o = 12;
    for (int i = 0; i < 4; i++) {
        b[o++] = (uint8_t)lens[i];
        memset(b + o, 'a' + i, (size_t)lens[i]);
        o += (size_t)lens[i];
    }
    b[o++] = 0;
    memcpy(b + o, "\0\1\0\1", 4);
    return o + 4;
}

static void test_parse_oversized(void)
{
    uint8_t b[600] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    struct mk_dns_query q;
    _cleanup_err_ mk_err *err = NULL;
    /* A 64-byte label: its length byte is a reserved label type. */
    b[12] = 64;
    memset(b + 13, 'a', 64);
    b[77] = 0;
    memcpy(b + 78, "\0\1\0\1", 4);
    CHECK(mk_dns_parse_query(b, 82, &q, &err) < 0);
    CHECK(strstr(err->msg, "label type") != NULL);
    mk_err_clear(&err);
    /* 255 bytes is the longest name (63+63+63+61, the length bytes and the root). */
    size_t n = name_of_labels(b, 63, 63, 63, 61);
    CHECK(mk_dns_parse_query(b, n, &q, &err) == 0);
    CHECK_INT(q.wire_len, 255);
    n = name_of_labels(b, 63, 63, 63, 62);
    CHECK(mk_dns_parse_query(b, n, &q, &err) < 0);
    CHECK(strstr(err->msg, "longer than 255") != NULL);
    mk_err_clear(&err);
    /* Not one question. */
    n = mkq(b, 1, "x", 1, 0);
    b[5] = 0;
    CHECK(mk_dns_parse_query(b, n, &q, NULL) < 0);
    b[5] = 2;
    CHECK(mk_dns_parse_query(b, n, &q, NULL) < 0);
}

/* Random bytes and random mutations of valid messages: never a crash, never a
 * name the parser could not have read (the sanitizer build checks the rest). */
static void test_parse_garbage(void)
{
    srandom(12345);
    uint8_t b[600], base[600];
    size_t bn = mkq(base, 9, "www.example.com", MK_DNS_TYPE_A, 1400);
    int parsed = 0;
    for (int i = 0; i < 200000; i++) {
        size_t n;
        if (i % 2 == 0) {
            n = (size_t)(random() % 80);
            for (size_t j = 0; j < n; j++)
                b[j] = (uint8_t)random();
            b[4] = 0; /* one question, often enough to get past the header */
            b[5] = 1;
        } else {
            n = bn;
            memcpy(b, base, bn);
            for (int k = random() % 4; k >= 0; k--)
                b[random() % bn] = (uint8_t)random();
            n = (size_t)(random() % 8) == 0 ? (size_t)random() % bn : bn;
        }
        struct mk_dns_query q;
        if (mk_dns_parse_query(b, n, &q, NULL) == 0) {
            parsed++;
            if (q.wire_len < 1 || q.wire_len > 255 || strlen(q.name) >= sizeof(q.name))
                FAIL_AT("iteration %d: wire_len %zu", i, q.wire_len);
            uint8_t out[600];
            size_t len = mk_dns_build_reply(&q, 0, NULL, 0, out, sizeof(out));
            struct reply r;
            if (len == 0 || decode(out, len, &r) < 0 || strcmp(r.qname, q.name) != 0)
                FAIL_AT("iteration %d: the reply to a parsed message does not decode", i);
        }
    }
    printf("# %d of 200000 random messages parsed\n", parsed);
    CHECK(parsed > 1000);
}

/* ---- building ---- */

static void test_build_a(void)
{
    uint8_t b[512], out[65535];
    size_t n = mkq(b, 0x1234, "Web", MK_DNS_TYPE_A, 0);
    struct mk_dns_query q;
    CHECK(mk_dns_parse_query(b, n, &q, NULL) == 0);
    struct mk_dns_answer an[3] = {{MK_DNS_TYPE_A, 0xac120002, NULL},
                                  {MK_DNS_TYPE_A, 0xac120003, NULL},
                                  {MK_DNS_TYPE_A, 0x0a000001, NULL}};
    size_t len = mk_dns_build_reply(&q, MK_DNS_NOERROR, an, 3, out, sizeof(out));
    struct reply r;
    CHECK(len > 0 && decode(out, len, &r) == 0);
    CHECK_INT(r.id, 0x1234);
    CHECK_INT(r.flags, 0x8180); /* QR, RD copied, RA */
    CHECK_INT(r.ancount, 3);
    CHECK_INT(r.a[0], 0xac120002);
    CHECK_INT(r.a[2], 0x0a000001);
    CHECK(memcmp(out + 12, "\3Web\0", 5) == 0);
    CHECK_INT(len, 12 + 5 + 4 + 3 * 16);

    /* 100 addresses in 512 bytes: as many as fit, TC set. */
    struct mk_dns_answer many[100];
    for (int i = 0; i < 100; i++)
        many[i] = (struct mk_dns_answer){MK_DNS_TYPE_A, 0x0a000000u + (uint32_t)i, NULL};
    len = mk_dns_build_reply(&q, MK_DNS_NOERROR, many, 100, out, 512);
    CHECK(len <= 512 && decode(out, len, &r) == 0);
    CHECK_INT(r.tc, 1);
    CHECK_INT(r.ancount, (512 - 21) / 16);
    len = mk_dns_build_reply(&q, MK_DNS_NOERROR, many, 100, out, sizeof(out));
    CHECK(decode(out, len, &r) == 0 && r.tc == 0 && r.ancount == 100);
    /* Not even the question fits. */
    CHECK_INT(mk_dns_build_reply(&q, MK_DNS_NOERROR, NULL, 0, out, 20), 0);
}

static void test_build_ptr_and_rcode(void)
{
    uint8_t b[512], out[512];
    size_t n = mkq(b, 77, "2.0.18.172.in-addr.arpa", MK_DNS_TYPE_PTR, 0);
    struct mk_dns_query q;
    CHECK(mk_dns_parse_query(b, n, &q, NULL) == 0);
    struct mk_dns_answer an = {MK_DNS_TYPE_PTR, 0, "web.mynet"};
    size_t len = mk_dns_build_reply(&q, MK_DNS_NOERROR, &an, 1, out, sizeof(out));
    struct reply r;
    CHECK(len > 0 && decode(out, len, &r) == 0);
    CHECK_STR(r.ptr, "web.mynet.");
    an.name = "web.mynet."; /* the final dot is optional */
    CHECK(mk_dns_build_reply(&q, MK_DNS_NOERROR, &an, 1, out, sizeof(out)) == len);
    char longlabel[80];
    memset(longlabel, 'x', 64);
    longlabel[64] = '\0';
    an.name = longlabel;
    CHECK_INT(mk_dns_build_reply(&q, MK_DNS_NOERROR, &an, 1, out, sizeof(out)), 0);
    an.name = "a..b";
    CHECK_INT(mk_dns_build_reply(&q, MK_DNS_NOERROR, &an, 1, out, sizeof(out)), 0);

    len = mk_dns_build_reply(&q, MK_DNS_SERVFAIL, NULL, 0, out, sizeof(out));
    CHECK(decode(out, len, &r) == 0);
    CHECK_INT(r.rcode, MK_DNS_SERVFAIL);
    CHECK_INT(r.ancount, 0);
    CHECK_INT(r.id, 77);
}

static void test_resolv_conf(void)
{
    char path[] = "/tmp/mk-dns-resolv-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *text = "# comment\nsearch example.com\n  nameserver\t10.0.0.1 # trailing\n"
                       "nameserver bogus\nnameserver ::1\nnameservers 1.1.1.1\n"
                       "nameserver fe80::1%lo\nnameserver 9.9.9.9\n";
    CHECK(mk_write_all(fd, text, strlen(text)) == 0);
    close(fd);
    struct mk_dns_upstream u[MK_DNS_MAX_UPSTREAMS];
    size_t n = 0;
    _cleanup_err_ mk_err *err = NULL;
    int r = mk_dns_upstreams_from_resolv_conf(path, u, &n, &err);
    unlink(path);
    CHECK(r == 0);
    CHECK_INT(n, 3); /* 9.9.9.9 is a fourth: glibc stops at three */
    CHECK_INT(u[0].addr.sa.sa_family, AF_INET);
    CHECK_INT(ntohl(u[0].addr.in.sin_addr.s_addr), 0x0a000001);
    CHECK_INT(ntohs(u[0].addr.in.sin_port), 53);
    CHECK_INT(u[1].addr.sa.sa_family, AF_INET6);
    CHECK_INT(ntohs(u[1].addr.in6.sin6_port), 53);
    CHECK(u[2].addr.in6.sin6_scope_id != 0);
    CHECK(mk_dns_upstreams_from_resolv_conf("/nonexistent/resolv.conf", u, &n, &err) < 0);
    CHECK(mk_dns_upstream_parse("1.2.3", 53, u, NULL) < 0);
}

/* ---- the server over loopback ---- */

static char last_lookup[1024];
static int lookups;

static int lookup(void *ctx, const char *name, uint32_t *addrs, size_t max)
{
    lookups++;
    snprintf(last_lookup, sizeof(last_lookup), "%s", name);
    if (strcmp(name, "web") == 0 || strcmp(name, "web.mynet") == 0) {
        addrs[0] = 0xac120002;
        return 1;
    }
    if (strcmp(name, "db") == 0) {
        addrs[0] = 0xac120003;
        addrs[1] = 0xac120004;
        return 2;
    }
    if (strcmp(name, "many") == 0) {
        size_t n = 0;
        for (; n < 100 && n < max; n++)
            addrs[n] = 0xac130000u + (uint32_t)n;
        return (int)n;
    }
    return 0;
}

static bool reverse(void *ctx, uint32_t addr, char *buf, size_t size)
{
    if (addr != 0xac120002)
        return false;
    snprintf(buf, size, "web.mynet");
    return true;
}

static struct mk_dns_server *srv;
static int srv_udp_port;

static struct sockaddr_in lo_addr(uint16_t port)
{
    return (struct sockaddr_in){
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001), .sin_port = htons(port)};
}

static int udp_socket(uint16_t bind_port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = lo_addr(bind_port);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    return fd;
}

static uint16_t port_of(int fd)
{
    struct sockaddr_in sa;
    socklen_t l = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &l);
    return ntohs(sa.sin_port);
}

static struct mk_dns_server *server_start(const uint16_t *up_ports, size_t nup, int timeout_ms)
{
    int udp = -1, tcp = -1;
    _cleanup_err_ mk_err *err = NULL;
    if (mk_dns_listen(-1, 0x7f000001, 0, &udp, &tcp, &err) < 0) {
        printf("# %s\n", err->msg);
        return NULL;
    }
    srv_udp_port = port_of(udp);
    struct mk_dns_config cfg = {
        .lookup = lookup, .reverse = reverse, .upstream_netns_fd = -1, .timeout_ms = timeout_ms};
    for (size_t i = 0; i < nup; i++) {
        mk_dns_upstream_parse("127.0.0.1", up_ports[i], &cfg.upstreams[i], NULL);
        cfg.nupstreams++;
    }
    struct mk_dns_server *s = mk_dns_server_new(udp, tcp, &cfg, &err);
    if (s == NULL)
        printf("# %s\n", err->msg);
    return s;
}

/* Run the server until fd is readable or ms pass; true if readable. */
static bool pump_until(int fd, int ms)
{
    int64_t deadline = mk_monotonic_ns() + (int64_t)ms * 1000000;
    for (;;) {
        int64_t left = (deadline - mk_monotonic_ns()) / 1000000;
        if (left < 0)
            return false;
        int t = mk_dns_server_timeout_ms(srv);
        if (t < 0 || t > left)
            t = (int)left;
        struct pollfd p[2] = {{mk_dns_server_fd(srv), POLLIN, 0}, {fd, POLLIN, 0}};
        int n = poll(p, fd >= 0 ? 2 : 1, t);
        if (fd >= 0 && (p[1].revents & POLLIN))
            return true;
        (void)n;
        mk_dns_server_process(srv);
    }
}

/* Ask over UDP from client; the reply decoded into r.  false on no reply. */
static bool ask_udp(int client, const uint8_t *q, size_t n, struct reply *r, int ms)
{
    struct sockaddr_in sa = lo_addr((uint16_t)srv_udp_port);
    sendto(client, q, n, 0, (struct sockaddr *)&sa, sizeof(sa));
    if (!pump_until(client, ms))
        return false;
    uint8_t buf[65536];
    ssize_t got = recv(client, buf, sizeof(buf), MSG_DONTWAIT);
    return got > 0 && decode(buf, (size_t)got, r) == 0;
}

static void test_server_udp_local(void)
{
    srv = server_start(NULL, 0, 0);
    CHECK(srv != NULL);
    _cleanup_close_ int c = udp_socket(0);
    uint8_t q[512];
    struct reply r;

    CHECK(ask_udp(c, q, mkq(q, 100, "web", MK_DNS_TYPE_A, 0), &r, 1000));
    CHECK_INT(r.id, 100);
    CHECK_INT(r.rcode, 0);
    CHECK_INT(r.na, 1);
    CHECK_INT(r.a[0], 0xac120002);

    /* Case and the final dot do not matter; the reply keeps the case asked. */
    CHECK(ask_udp(c, q, mkq(q, 101, "WeB.MyNet.", MK_DNS_TYPE_A, 0), &r, 1000));
    CHECK_STR(last_lookup, "web.mynet");
    CHECK_INT(r.na, 1);

    /* Two addresses, both given, in either order. */
    CHECK(ask_udp(c, q, mkq(q, 102, "db", MK_DNS_TYPE_A, 0), &r, 1000));
    CHECK_INT(r.na, 2);
    CHECK(r.a[0] + r.a[1] == 0xac120003u + 0xac120004u);

    /* AAAA and MX of a known name: empty, NOERROR, no upstream needed. */
    CHECK(ask_udp(c, q, mkq(q, 103, "web", MK_DNS_TYPE_AAAA, 0), &r, 1000));
    CHECK_INT(r.rcode, 0);
    CHECK_INT(r.ancount, 0);
    CHECK(ask_udp(c, q, mkq(q, 104, "web", MK_DNS_TYPE_MX, 0), &r, 1000));
    CHECK_INT(r.rcode, 0);
    CHECK_INT(r.ancount, 0);

    /* PTR from the reverse callback. */
    CHECK(ask_udp(c, q, mkq(q, 105, "2.0.18.172.in-addr.arpa", MK_DNS_TYPE_PTR, 0), &r, 1000));
    CHECK_STR(r.ptr, "web.mynet.");

    /* Too many for 512 bytes: truncated (the client retries over TCP); with EDNS all fit. */
    CHECK(ask_udp(c, q, mkq(q, 106, "many", MK_DNS_TYPE_A, 0), &r, 1000));
    CHECK_INT(r.tc, 1);
    CHECK(r.na > 20 && r.na < 100);
    CHECK(ask_udp(c, q, mkq(q, 107, "many", MK_DNS_TYPE_A, 4096), &r, 1000));
    CHECK_INT(r.tc, 0);
    CHECK_INT(r.na, 100);

    /* Unknown, with no upstream at all: SERVFAIL. */
    CHECK(ask_udp(c, q, mkq(q, 108, "example.com", MK_DNS_TYPE_A, 0), &r, 1000));
    CHECK_INT(r.rcode, MK_DNS_SERVFAIL);

    /* Another opcode: NOTIMP. */
    size_t n = mkq(q, 109, "web", MK_DNS_TYPE_A, 0);
    q[2] |= 0x10; /* opcode 2, STATUS */
    CHECK(ask_udp(c, q, n, &r, 1000));
    CHECK_INT(r.rcode, MK_DNS_NOTIMP);

    mk_dns_server_free(srv);
    srv = NULL;
}

static void test_server_garbage(void)
{
    srv = server_start(NULL, 0, 0);
    CHECK(srv != NULL);
    _cleanup_close_ int c = udp_socket(0);
    uint8_t q[512];
    struct reply r;
    struct sockaddr_in sa = lo_addr((uint16_t)srv_udp_port);
    /* Nothing comes back for garbage, a reply, a looping name or an empty datagram. */
    uint8_t loop[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    sendto(c, loop, sizeof(loop), 0, (struct sockaddr *)&sa, sizeof(sa));
    sendto(c, "garbage", 7, 0, (struct sockaddr *)&sa, sizeof(sa));
    sendto(c, "", 0, 0, (struct sockaddr *)&sa, sizeof(sa));
    size_t n = mkq(q, 5, "web", MK_DNS_TYPE_A, 0);
    q[2] |= 0x80; /* QR: a reply */
    sendto(c, q, n, 0, (struct sockaddr *)&sa, sizeof(sa));
    srandom(99);
    for (int i = 0; i < 2000; i++) {
        n = mkq(q, 6, "web", MK_DNS_TYPE_A, 0);
        for (int k = 0; k < 3; k++)
            q[random() % n] = (uint8_t)random();
        q[2] |= 0x80; /* keep them all replies or garbage so none is answered */
        sendto(c, q, (size_t)random() % (n + 1), 0, (struct sockaddr *)&sa, sizeof(sa));
        if (i % 100 == 0)
            pump_until(-1, 1);
    }
    CHECK(!pump_until(c, 100));
    /* And the server still answers. */
    CHECK(ask_udp(c, q, mkq(q, 7, "web", MK_DNS_TYPE_A, 0), &r, 1000));
    CHECK_INT(r.id, 7);
    CHECK_INT(r.na, 1);
    mk_dns_server_free(srv);
    srv = NULL;
}

/* The fake upstream: answer the query in buf (n bytes) with addr, in place. */
static size_t upstream_answer(uint8_t *buf, size_t n, uint32_t addr, int rcode)
{
    struct mk_dns_query q;
    if (mk_dns_parse_query(buf, n, &q, NULL) < 0)
        return 0;
    struct mk_dns_answer an = {MK_DNS_TYPE_A, addr, NULL};
    uint8_t out[512];
    size_t len = mk_dns_build_reply(&q, rcode, &an, rcode == 0 ? 1 : 0, out, sizeof(out));
    memcpy(buf, out, len);
    return len;
}

/* A server with one upstream: a UDP socket of the test's, in *up. */
static bool start_with_upstream(int *up, int timeout_ms)
{
    *up = udp_socket(0);
    uint16_t port = port_of(*up);
    srv = server_start(&port, 1, timeout_ms);
    return srv != NULL;
}

static void test_server_forward_udp(void)
{
    _cleanup_close_ int up = -1;
    CHECK(start_with_upstream(&up, 300));
    _cleanup_close_ int c = udp_socket(0);
    uint8_t q[512], buf[512];
    struct reply r;
    struct sockaddr_in sa = lo_addr((uint16_t)srv_udp_port);

    size_t n = mkq(q, 0x4242, "Example.COM", MK_DNS_TYPE_A, 0);
    sendto(c, q, n, 0, (struct sockaddr *)&sa, sizeof(sa));
    CHECK(pump_until(up, 1000));
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    ssize_t got = recvfrom(up, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
    CHECK(got == (ssize_t)n);
    CHECK(memcmp(buf + 2, q + 2, n - 2) == 0); /* the query as asked, under another id */
    uint16_t up_id = g16(buf);
    /* A reply with the wrong id is not taken, nor one to another question. */
    uint8_t bogus[512];
    memcpy(bogus, buf, (size_t)got);
    bogus[0] ^= 0x55;
    size_t bl = upstream_answer(bogus, (size_t)got, 0x01010101, 0);
    sendto(up, bogus, bl, 0, (struct sockaddr *)&from, fl);
    size_t on = mkq(bogus, up_id, "other.com", MK_DNS_TYPE_A, 0);
    bl = upstream_answer(bogus, on, 0x02020202, 0);
    sendto(up, bogus, bl, 0, (struct sockaddr *)&from, fl);
    CHECK(!pump_until(c, 50));
    size_t rl = upstream_answer(buf, (size_t)got, 0x5db8d822, 0);
    sendto(up, buf, rl, 0, (struct sockaddr *)&from, fl);
    CHECK(pump_until(c, 1000));
    got = recv(c, buf, sizeof(buf), 0);
    CHECK(got > 0 && decode(buf, (size_t)got, &r) == 0);
    CHECK_INT(r.id, 0x4242);
    CHECK_INT(r.na, 1);
    CHECK_INT(r.a[0], 0x5db8d822);

    /* A retransmission while pending goes upstream once. */
    n = mkq(q, 0x4343, "twice.example", MK_DNS_TYPE_A, 0);
    sendto(c, q, n, 0, (struct sockaddr *)&sa, sizeof(sa));
    sendto(c, q, n, 0, (struct sockaddr *)&sa, sizeof(sa));
    CHECK(pump_until(up, 1000));
    pump_until(-1, 20);
    CHECK(recv(up, buf, sizeof(buf), 0) > 0);
    CHECK(recv(up, buf, sizeof(buf), MSG_DONTWAIT) < 0);

    /* Silent upstream: SERVFAIL after the timeout. */
    int64_t t0 = mk_monotonic_ns();
    CHECK(pump_until(c, 2000));
    int64_t ms = (mk_monotonic_ns() - t0) / 1000000;
    got = recv(c, buf, sizeof(buf), 0);
    CHECK(got > 0 && decode(buf, (size_t)got, &r) == 0);
    CHECK_INT(r.id, 0x4343);
    CHECK_INT(r.rcode, MK_DNS_SERVFAIL);
    CHECK(ms >= 200 && ms < 1500);

    /* Known names never reach the upstream, even AAAA. */
    CHECK(ask_udp(c, q, mkq(q, 1, "web", MK_DNS_TYPE_AAAA, 0), &r, 1000));
    CHECK(recv(up, buf, sizeof(buf), MSG_DONTWAIT) < 0);
    /* An unknown name's AAAA and PTR are forwarded. */
    sendto(c, q, mkq(q, 2, "2.0.0.10.in-addr.arpa", MK_DNS_TYPE_PTR, 0), 0, (struct sockaddr *)&sa,
           sizeof(sa));
    CHECK(pump_until(up, 1000));
    mk_dns_server_free(srv);
    srv = NULL;
}

static void test_server_upstream_failover(void)
{
    /* A closed port (refused at once), a silent one, one answering SERVFAIL, then a good one:
     * only three are used, so the good one is never reached. */
    _cleanup_close_ int silent = udp_socket(0), failing = udp_socket(0);
    int closed = udp_socket(0);
    uint16_t ports[3] = {port_of(closed), port_of(silent), port_of(failing)};
    close(closed);
    srv = server_start(ports, 3, 300);
    CHECK(srv != NULL);
    _cleanup_close_ int c = udp_socket(0);
    uint8_t q[512], buf[512];
    struct sockaddr_in sa = lo_addr((uint16_t)srv_udp_port);
    size_t n = mkq(q, 9, "example.org", MK_DNS_TYPE_A, 0);
    int64_t t0 = mk_monotonic_ns();
    sendto(c, q, n, 0, (struct sockaddr *)&sa, sizeof(sa));
    CHECK(pump_until(silent, 1000));
    CHECK((mk_monotonic_ns() - t0) / 1000000 < 250); /* the refused one did not wait */
    CHECK(recv(silent, buf, sizeof(buf), 0) > 0);
    CHECK(pump_until(failing, 1000));
    CHECK((mk_monotonic_ns() - t0) / 1000000 >= 290);
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    ssize_t got = recvfrom(failing, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
    size_t rl = upstream_answer(buf, (size_t)got, 0, MK_DNS_SERVFAIL);
    sendto(failing, buf, rl, 0, (struct sockaddr *)&from, fl);
    CHECK(pump_until(c, 1000));
    got = recv(c, buf, sizeof(buf), 0);
    struct reply r;
    CHECK(got > 0 && decode(buf, (size_t)got, &r) == 0);
    CHECK_INT(r.rcode, MK_DNS_SERVFAIL);
    CHECK_INT(r.id, 9);
    mk_dns_server_free(srv);
    srv = NULL;

    /* NXDOMAIN is an answer: relayed, the next upstream not asked. */
    _cleanup_close_ int a = udp_socket(0), b = udp_socket(0);
    uint16_t ports2[2] = {port_of(a), port_of(b)};
    srv = server_start(ports2, 2, 500);
    CHECK(srv != NULL);
    sa = lo_addr((uint16_t)srv_udp_port);
    sendto(c, q, n, 0, (struct sockaddr *)&sa, sizeof(sa));
    CHECK(pump_until(a, 1000));
    fl = sizeof(from);
    got = recvfrom(a, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
    rl = upstream_answer(buf, (size_t)got, 0, MK_DNS_NXDOMAIN);
    sendto(a, buf, rl, 0, (struct sockaddr *)&from, fl);
    CHECK(pump_until(c, 1000));
    got = recv(c, buf, sizeof(buf), 0);
    CHECK(got > 0 && decode(buf, (size_t)got, &r) == 0);
    CHECK_INT(r.rcode, MK_DNS_NXDOMAIN);
    CHECK(recv(b, buf, sizeof(buf), MSG_DONTWAIT) < 0);
    mk_dns_server_free(srv);
    srv = NULL;
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    while (d != NULL && readdir(d) != NULL)
        n++;
    if (d != NULL)
        closedir(d);
    return n;
}

static void test_server_bounds(void)
{
    _cleanup_close_ int up = -1;
    CHECK(start_with_upstream(&up, 5000));
    int fds0 = count_fds();
    _cleanup_close_ int c = udp_socket(0);
    int rcvbuf = 1 << 20;
    setsockopt(up, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    setsockopt(c, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    uint8_t q[512], buf[512];
    struct sockaddr_in sa = lo_addr((uint16_t)srv_udp_port);
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof(name), "n%d.example", i);
        sendto(c, q, mkq(q, (uint16_t)i, name, MK_DNS_TYPE_A, 0), 0, (struct sockaddr *)&sa,
               sizeof(sa));
        if (i % 16 == 0)
            pump_until(-1, 2);
    }
    pump_until(-1, 50);
    int forwarded = 0, refused = 0;
    while (recv(up, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        forwarded++;
    struct reply r;
    ssize_t got;
    while ((got = recv(c, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
        if (decode(buf, (size_t)got, &r) == 0 && r.rcode == MK_DNS_REFUSED)
            refused++;
    printf("# 300 queries: %d forwarded, %d refused, %d more fds\n", forwarded, refused,
           count_fds() - fds0);
    CHECK_INT(forwarded, 128);
    CHECK_INT(refused, 300 - 128);
    CHECK(count_fds() - fds0 <= 128 + 2);

    /* TCP clients: at most 16 stay connected. */
    int conns[24];
    for (int i = 0; i < 24; i++) {
        conns[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        connect(conns[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    pump_until(-1, 50);
    int open_ = 0;
    for (int i = 0; i < 24; i++) {
        struct pollfd p = {conns[i], POLLIN, 0};
        if (poll(&p, 1, 0) == 0)
            open_++;
        close(conns[i]);
    }
    CHECK_INT(open_, 16);
    mk_dns_server_free(srv);
    srv = NULL;
    /* The server's epoll fd and two sockets are gone; c is still open. */
    CHECK_INT(count_fds(), fds0 - 3 + 1);
}

static bool tcp_read_msg(int fd, uint8_t *buf, size_t *len, int ms)
{
    size_t have = 0, need = 2;
    while (have < need) {
        if (!pump_until(fd, ms))
            return false;
        ssize_t n = recv(fd, buf + have, need - have, MSG_DONTWAIT);
        if (n <= 0)
            return false;
        have += (size_t)n;
        if (have == 2)
            need = 2 + g16(buf);
    }
    memmove(buf, buf + 2, have - 2);
    *len = have - 2;
    return true;
}

static int tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = lo_addr(port);
    connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    return fd;
}

static void test_server_tcp(void)
{
    _cleanup_close_ int ul = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in usa = lo_addr(0);
    bind(ul, (struct sockaddr *)&usa, sizeof(usa));
    listen(ul, 4);
    uint16_t port = port_of(ul);
    srv = server_start(&port, 1, 1000);
    CHECK(srv != NULL);
    _cleanup_close_ int c = tcp_connect((uint16_t)srv_udp_port);
    uint8_t out[2048], buf[65536];
    /* Two queries in one write, the second split from its length. */
    size_t n1 = mkq(out + 2, 11, "web", MK_DNS_TYPE_A, 0);
    out[0] = 0;
    out[1] = (uint8_t)n1;
    size_t n2 = mkq(out + 4 + n1, 12, "many", MK_DNS_TYPE_A, 0);
    out[2 + n1] = 0;
    out[3 + n1] = (uint8_t)n2;
    CHECK(write(c, out, 3 + n1) == (ssize_t)(3 + n1));
    pump_until(-1, 20);
    CHECK(write(c, out + 3 + n1, 1 + n2) == (ssize_t)(1 + n2));
    size_t len;
    struct reply r;
    CHECK(tcp_read_msg(c, buf, &len, 1000));
    CHECK(decode(buf, len, &r) == 0);
    CHECK_INT(r.id, 11);
    CHECK_INT(r.a[0], 0xac120002);
    CHECK(tcp_read_msg(c, buf, &len, 1000));
    CHECK(decode(buf, len, &r) == 0);
    CHECK_INT(r.id, 12);
    CHECK_INT(r.na, 100); /* no 512-byte limit over TCP */
    CHECK_INT(r.tc, 0);

    /* Forwarded over TCP to a TCP upstream. */
    size_t n = mkq(out + 2, 13, "big.example", MK_DNS_TYPE_A, 0);
    out[0] = 0;
    out[1] = (uint8_t)n;
    CHECK(write(c, out, 2 + n) == (ssize_t)(2 + n));
    CHECK(pump_until(ul, 1000));
    _cleanup_close_ int uc = accept4(ul, NULL, NULL, SOCK_CLOEXEC);
    CHECK(uc >= 0);
    pump_until(-1, 20);
    ssize_t got = recv(uc, buf, sizeof(buf), MSG_DONTWAIT);
    CHECK(got == (ssize_t)(2 + n));
    CHECK(g16(buf) == n && memcmp(buf + 4, out + 4, n - 2) == 0);
    size_t rl = upstream_answer(buf + 2, n, 0x08080808, 0);
    buf[0] = 0;
    buf[1] = (uint8_t)rl;
    /* Sent in two pieces: the server reassembles. */
    CHECK(write(uc, buf, 5) == 5);
    pump_until(-1, 20);
    CHECK(write(uc, buf + 5, rl - 3) == (ssize_t)(rl - 3));
    CHECK(tcp_read_msg(c, buf, &len, 1000));
    CHECK(decode(buf, len, &r) == 0);
    CHECK_INT(r.id, 13);
    CHECK_INT(r.a[0], 0x08080808);

    /* The upstream takes the connection and closes it: SERVFAIL (no other upstream). */
    n = mkq(out + 2, 14, "gone.example", MK_DNS_TYPE_A, 0);
    out[1] = (uint8_t)n;
    CHECK(write(c, out, 2 + n) == (ssize_t)(2 + n));
    CHECK(pump_until(ul, 1000));
    close(accept4(ul, NULL, NULL, SOCK_CLOEXEC));
    CHECK(tcp_read_msg(c, buf, &len, 1000));
    CHECK(decode(buf, len, &r) == 0);
    CHECK_INT(r.id, 14);
    CHECK_INT(r.rcode, MK_DNS_SERVFAIL);

    /* A zero-length message ends the connection. */
    CHECK(write(c, "\0\0", 2) == 2);
    pump_until(-1, 50);
    CHECK(recv(c, buf, sizeof(buf), MSG_DONTWAIT) == 0);

    /* A client that leaves with a query pending upstream: nothing breaks. */
    int c2 = tcp_connect((uint16_t)srv_udp_port);
    n = mkq(out + 2, 15, "slow.example", MK_DNS_TYPE_A, 0);
    out[1] = (uint8_t)n;
    CHECK(write(c2, out, 2 + n) == (ssize_t)(2 + n));
    CHECK(pump_until(ul, 1000));
    close(c2);
    _cleanup_close_ int uc2 = accept4(ul, NULL, NULL, SOCK_CLOEXEC);
    pump_until(-1, 50);
    got = recv(uc2, buf, sizeof(buf), MSG_DONTWAIT);
    CHECK(got == (ssize_t)(2 + n));
    rl = upstream_answer(buf + 2, n, 0x08080808, 0);
    buf[1] = (uint8_t)rl;
    CHECK(write(uc2, buf, 2 + rl) == (ssize_t)(2 + rl));
    pump_until(-1, 50);
    CHECK_INT(mk_dns_server_timeout_ms(srv), -1); /* nothing pending, no client */
    mk_dns_server_free(srv);
    srv = NULL;
}

/* ---- a real client in a network namespace ---- */

static const char *find_busybox(void)
{
    static const char *paths[] = {"/usr/bin/busybox", "/bin/busybox", "/usr/local/bin/busybox"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

/* busybox nslookup NAME 127.0.0.11 in netns; its output into out. */
static int nslookup_in(int netns, const char *name, char *out, size_t size)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        if (setns(netns, CLONE_NEWNET) < 0)
            _exit(111);
        execl(find_busybox(), "busybox", "nslookup", name, "127.0.0.11", (char *)NULL);
        _exit(112);
    }
    close(pipefd[1]);
    mk_fd_set_nonblock(pipefd[0], true);
    size_t got = 0;
    int status = -1;
    int64_t deadline = mk_monotonic_ns() + 10LL * 1000000000;
    for (;;) {
        pump_until(pipefd[0], 20);
        ssize_t n;
        while (got + 1 < size && (n = read(pipefd[0], out + got, size - got - 1)) > 0)
            got += (size_t)n;
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        if (mk_monotonic_ns() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
    }
    ssize_t n;
    while (got + 1 < size && (n = read(pipefd[0], out + got, size - got - 1)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(pipefd[0]);
    return status;
}

/* Text as TAP comment lines. */
static void print_comment(const char *text)
{
    for (const char *p = text; *p != '\0';) {
        size_t l = strcspn(p, "\n");
        if (l > 0)
            printf("# %.*s\n", (int)l, p);
        p += l + (p[l] == '\n');
    }
}

static void test_busybox_nslookup(void)
{
    if (geteuid() != 0 || find_busybox() == NULL) {
        printf("# skip: needs root and busybox\n");
        return;
    }
    _cleanup_close_ int netns = -1;
    _cleanup_err_ mk_err *err = NULL;
    if (mk_netns_create(&netns, &err) < 0)
        FAIL_AT("%s", err->msg);
    /* The fake upstream on the host's loopback, reached from the host's namespace
     * although the server's sockets are in the container's. */
    _cleanup_close_ int up = udp_socket(0);
    int udp = -1, tcp = -1;
    if (mk_dns_listen(netns, MK_DNS_ADDR, 53, &udp, &tcp, &err) < 0)
        FAIL_AT("%s", err->msg);
    struct mk_dns_config cfg = {.lookup = lookup, .reverse = reverse, .upstream_netns_fd = netns};
    mk_dns_upstream_parse("127.0.0.1", port_of(up), &cfg.upstreams[0], NULL);
    cfg.nupstreams = 1;
    srv = mk_dns_server_new(udp, tcp, &cfg, &err);
    if (srv == NULL)
        FAIL_AT("%s", err->msg);

    char out[4096];
    int st = nslookup_in(netns, "web", out, sizeof(out));
    if (strstr(out, "172.18.0.2") == NULL)
        print_comment(out);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(strstr(out, "172.18.0.2") != NULL);

    st = nslookup_in(netns, "DB", out, sizeof(out));
    CHECK(strstr(out, "172.18.0.3") != NULL && strstr(out, "172.18.0.4") != NULL);

    /* Forwarded: busybox asks A and AAAA; the fake upstream answers the A. */
    pid_t pid = fork();
    if (pid == 0) {
        /* The upstream, in a child: it answers every query with 10.9.8.7. */
        uint8_t buf[512];
        for (int i = 0; i < 8; i++) {
            struct pollfd p = {up, POLLIN, 0};
            if (poll(&p, 1, 5000) <= 0)
                break;
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t n = recvfrom(up, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
            if (n <= 0)
                continue;
            struct mk_dns_query q;
            if (mk_dns_parse_query(buf, (size_t)n, &q, NULL) < 0)
                continue;
            size_t rl = q.qtype == MK_DNS_TYPE_A ? upstream_answer(buf, (size_t)n, 0x0a090807, 0)
                                                 : mk_dns_build_reply(&q, 0, NULL, 0, buf, 512);
            sendto(up, buf, rl, 0, (struct sockaddr *)&from, fl);
        }
        _exit(0);
    }
    st = nslookup_in(netns, "outside.example", out, sizeof(out));
    if (strstr(out, "10.9.8.7") == NULL)
        print_comment(out);
    CHECK(strstr(out, "10.9.8.7") != NULL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);

    mk_dns_server_free(srv);
    srv = NULL;
}

/* The host's first non-loopback IPv4 address (host order), 0 if none. */
static uint32_t host_ipv4(void)
{
    struct ifaddrs *ifs = NULL;
    uint32_t found = 0;
    if (getifaddrs(&ifs) < 0)
        return 0;
    for (struct ifaddrs *i = ifs; i != NULL && found == 0; i = i->ifa_next)
        if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET) {
            uint32_t a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
            if (a >> 24 != 127)
                found = a;
        }
    freeifaddrs(ifs);
    return found;
}

/* upstream_netns_fd: an upstream that is not loopback is reached from the
 * container's namespace, where the host's own address is unreachable (only
 * lo is up): SERVFAIL at once, nothing sent.  From the caller's it arrives. */
static void test_upstream_netns(void)
{
    uint32_t hostip = host_ipv4();
    if (geteuid() != 0 || hostip == 0) {
        printf("# skip: needs root and a non-loopback address\n");
        return;
    }
    _cleanup_close_ int netns = -1;
    _cleanup_err_ mk_err *err = NULL;
    if (mk_netns_create(&netns, &err) < 0)
        FAIL_AT("%s", err->msg);
    _cleanup_close_ int up = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in any = {.sin_family = AF_INET};
    CHECK(bind(up, (struct sockaddr *)&any, sizeof(any)) == 0);
    char ip[16];
    mk_ipv4_str(hostip, ip);
    _cleanup_close_ int c = udp_socket(0);
    uint8_t q[512], buf[512];
    for (int in_netns = 1; in_netns >= 0; in_netns--) {
        int udp = -1, tcp = -1;
        CHECK(mk_dns_listen(-1, 0x7f000001, 0, &udp, &tcp, NULL) == 0);
        srv_udp_port = port_of(udp);
        struct mk_dns_config cfg = {.lookup = lookup, .upstream_netns_fd = in_netns ? netns : -1};
        CHECK(mk_dns_upstream_parse(ip, port_of(up), &cfg.upstreams[0], NULL) == 0);
        cfg.nupstreams = 1;
        srv = mk_dns_server_new(udp, tcp, &cfg, &err);
        if (srv == NULL)
            FAIL_AT("%s", err->msg);
        struct reply r;
        size_t n = mkq(q, 21, "example.net", MK_DNS_TYPE_A, 0);
        if (in_netns) {
            CHECK(ask_udp(c, q, n, &r, 1000));
            CHECK_INT(r.rcode, MK_DNS_SERVFAIL);
            CHECK(recv(up, buf, sizeof(buf), MSG_DONTWAIT) < 0);
        } else {
            struct sockaddr_in sa = lo_addr((uint16_t)srv_udp_port);
            sendto(c, q, n, 0, (struct sockaddr *)&sa, sizeof(sa));
            CHECK(pump_until(up, 1000));
            CHECK(recv(up, buf, sizeof(buf), 0) == (ssize_t)n);
        }
        mk_dns_server_free(srv);
        srv = NULL;
    }
    /* A field left 0 is not taken for a namespace. */
    int udp = -1, tcp = -1;
    CHECK(mk_dns_listen(-1, 0x7f000001, 0, &udp, &tcp, NULL) == 0);
    struct mk_dns_config cfg = {.lookup = lookup};
    CHECK(mk_dns_server_new(udp, tcp, &cfg, &err) == NULL);
    CHECK(strstr(err->msg, "not a network namespace") != NULL);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_parse_query);
    RUN(test_parse_escapes);
    RUN(test_parse_compression);
    RUN(test_parse_loops);
    RUN(test_parse_truncated);
    RUN(test_parse_oversized);
    RUN(test_parse_garbage);
    RUN(test_build_a);
    RUN(test_build_ptr_and_rcode);
    RUN(test_resolv_conf);
    RUN(test_server_udp_local);
    RUN(test_server_garbage);
    RUN(test_server_forward_udp);
    RUN(test_server_upstream_failover);
    RUN(test_server_bounds);
    RUN(test_server_tcp);
    RUN(test_busybox_nslookup);
    RUN(test_upstream_netns);
    return tap_done();
}
