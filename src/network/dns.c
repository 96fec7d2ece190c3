/* dns.c: the embedded DNS server of containers on user-defined networks
 * (docker's 127.0.0.11), run inside the container's monitor.
 *
 * Known names are answered from the container side's lookup callback (A with
 * TTL 600, addresses shuffled; AAAA and MX of a known name get an empty
 * NOERROR; PTR through the reverse callback), everything else is forwarded to
 * the upstream resolvers one after the other, as docker does: a timeout, a
 * refused connection, SERVFAIL or REFUSED moves on to the next, and when none
 * is left the client gets SERVFAIL.  A query forwarded over UDP goes out on a
 * socket of its own (a fresh source port) with a random id, and only a reply
 * from that upstream with that id and the same question is relayed, under
 * the client's id.  A TCP query is forwarded over TCP (a client only asks over
 * TCP when the UDP answer was truncated).
 *
 * Everything a container sends is untrusted: messages are parsed with every
 * length checked, and what it can make the monitor hold is bounded (pending
 * forwarded queries, TCP clients, each client's queries in flight and unread
 * replies).  Freed state is only released after the event batch that may
 * still name it. */
#include "network/network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <netdb.h>
#include <sched.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#define HDR_LEN     12
#define FLAG_QR     0x8000
#define FLAG_TC     0x0200
#define FLAG_RD     0x0100
#define FLAG_RA     0x0080
#define FLAG_CD     0x0010
#define OPCODE_MASK 0x7800
#define CLASS_IN    1

#define MAX_MSG            65535
#define MIN_UDP_REPLY      512 /* what a client without EDNS0 takes */
#define MAX_FORWARDS       128 /* pending forwarded queries (an fd each) */
#define MAX_CONNS          16  /* TCP clients */
#define CONN_MAX_INFLIGHT  8   /* a TCP client's queries being forwarded */
#define CONN_OUT_HWM       (128u << 10)
#define CONN_IDLE_MS       8000 /* miekg/dns's idle timeout, which docker's server uses */
#define DEFAULT_TIMEOUT_MS 4000 /* docker's extIOTimeout */
#define UDP_BATCH          32
#define MAX_ADDRS          256

/* ---- parsing ---- */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* The name at *off, uncompressed into wire (255 bytes at most, the root label
 * included); *off moves past it as it appears there.  Every compression
 * pointer must go below the start of the stretch of labels holding it (a
 * compressor only points at names written earlier), so the walk ends. */
static int read_name(const uint8_t *m, size_t len, size_t *off, uint8_t wire[255], size_t *wire_len,
                     mk_err **err)
{
    size_t pos = *off, seg_start = *off, out = 0, end = 0;
    bool jumped = false;
    for (;;) {
        if (pos >= len)
            return mk_err_set(err, MK_ERR_INVALID, "name runs past the end of the message");
        uint8_t c = m[pos];
        if ((c & 0xc0) == 0xc0) {
            if (pos + 1 >= len)
                return mk_err_set(err, MK_ERR_INVALID, "truncated compression pointer");
            size_t target = (size_t)(c & 0x3f) << 8 | m[pos + 1];
            if (target >= seg_start)
                return mk_err_set(err, MK_ERR_INVALID,
                                  "compression pointer at %zu does not point backwards", pos);
            if (!jumped)
                end = pos + 2;
            jumped = true;
            pos = seg_start = target;
            continue;
        }
        if (c & 0xc0)
            return mk_err_set(err, MK_ERR_INVALID, "unknown label type 0x%02x", c);
        if (c == 0) {
            wire[out++] = 0;
            pos++;
            break;
        }
        if (len - pos - 1 < c)
            return mk_err_set(err, MK_ERR_INVALID, "label runs past the end of the message");
        if (out + 1 + c + 1 > 255)
            return mk_err_set(err, MK_ERR_INVALID, "name longer than 255 bytes");
        memcpy(wire + out, m + pos, 1 + (size_t)c);
        out += 1 + (size_t)c;
        pos += 1 + (size_t)c;
    }
    *off = jumped ? end : pos;
    *wire_len = out;
    return 0;
}

/* wire as text: lower case, no trailing dot, odd bytes as \DDD.  text holds
 * 1024 bytes: 255 bytes, each at most 4 characters, fit. */
static void name_text(const uint8_t *wire, char text[1024])
{
    size_t o = 0;
    for (size_t i = 0; wire[i] != 0; i += 1 + (size_t)wire[i]) {
        if (o > 0)
            text[o++] = '.';
        for (size_t j = 1; j <= wire[i]; j++) {
            uint8_t b = wire[i + j];
            if (b >= 'A' && b <= 'Z')
                text[o++] = (char)(b - 'A' + 'a');
            else if (b > ' ' && b < 0x7f && b != '.' && b != '\\')
                text[o++] = (char)b;
            else
                o += (size_t)snprintf(text + o, 5, "\\%03u", b);
        }
    }
    text[o] = '\0';
}

/* Skip one resource record at *off; its type and class into *type and *class. */
static int skip_rr(const uint8_t *m, size_t len, size_t *off, uint16_t *type, uint16_t *class,
                   bool *root_owner)
{
    uint8_t wire[255];
    size_t wire_len;
    if (read_name(m, len, off, wire, &wire_len, NULL) < 0 || len - *off < 10)
        return -1;
    const uint8_t *p = m + *off;
    uint16_t rdlen = get16(p + 8);
    if (len - *off - 10 < rdlen)
        return -1;
    *type = get16(p);
    *class = get16(p + 2);
    *root_owner = wire_len == 1;
    *off += 10 + (size_t)rdlen;
    return 0;
}

/* The EDNS0 payload size of the OPT record among the additional records, 0
 * if there is none or the records after the question do not parse. */
static uint16_t edns_udp_size(const uint8_t *m, size_t len, size_t off)
{
    unsigned before = (unsigned)get16(m + 6) + get16(m + 8), additional = get16(m + 10);
    for (unsigned i = 0; i < before + additional; i++) {
        uint16_t type, class;
        bool root;
        if (skip_rr(m, len, &off, &type, &class, &root) < 0)
            return 0;
        if (i >= before && type == MK_DNS_TYPE_OPT && root)
            return class;
    }
    return 0;
}

int mk_dns_parse_query(const void *msg, size_t len, struct mk_dns_query *q, mk_err **err)
{
    const uint8_t *m = msg;
    if (len < HDR_LEN)
        return mk_err_set(err, MK_ERR_INVALID, "message of %zu bytes is shorter than a header",
                          len);
    if (get16(m + 4) != 1)
        return mk_err_set(err, MK_ERR_INVALID, "message has %u questions, not one", get16(m + 4));
    struct mk_dns_query r = {.id = get16(m), .flags = get16(m + 2)};
    size_t off = HDR_LEN;
    if (read_name(m, len, &off, r.wire, &r.wire_len, err) < 0)
        return mk_err_wrap(err, "question");
    if (len - off < 4)
        return mk_err_set(err, MK_ERR_INVALID, "question: type and class run past the end");
    r.qtype = get16(m + off);
    r.qclass = get16(m + off + 2);
    r.udp_size = edns_udp_size(m, len, off + 4);
    name_text(r.wire, r.name);
    *q = r;
    return 0;
}

/* ---- building ---- */

/* Dotted text ("web.net" or "web.net.") into wire form; 0 if it is not a
 * valid name (empty label, label over 63 bytes, name over 255). */
static size_t text_wire(const char *text, uint8_t wire[255])
{
    size_t o = 0, n = strlen(text);
    if (n > 0 && text[n - 1] == '.')
        n--;
    for (size_t i = 0; i < n;) {
        const char *dot = memchr(text + i, '.', n - i);
        size_t l = dot != NULL ? (size_t)(dot - text) - i : n - i;
        if (l == 0 || l > 63 || o + 1 + l + 1 > 255)
            return 0;
        wire[o++] = (uint8_t)l;
        memcpy(wire + o, text + i, l);
        o += l;
        i += l + (dot != NULL);
        if (dot != NULL && i == n)
            return 0; /* "a..": an empty label at the end */
    }
    wire[o++] = 0;
    return o;
}

size_t mk_dns_build_reply(const struct mk_dns_query *q, int rcode, const struct mk_dns_answer *an,
                          size_t n, void *buf, size_t cap)
{
    uint8_t *b = buf;
    size_t off = HDR_LEN + q->wire_len + 4;
    if (q->wire_len == 0 || cap < off)
        return 0;
    uint16_t flags = FLAG_QR | FLAG_RA | (q->flags & (OPCODE_MASK | FLAG_RD | FLAG_CD)) |
                     (uint16_t)(rcode & 0xf);
    memset(b, 0, HDR_LEN);
    put16(b, q->id);
    put16(b + 4, 1);
    memcpy(b + HDR_LEN, q->wire, q->wire_len);
    put16(b + HDR_LEN + q->wire_len, q->qtype);
    put16(b + HDR_LEN + q->wire_len + 2, q->qclass);
    uint16_t count = 0;
    for (size_t i = 0; i < n && count < UINT16_MAX; i++) {
        uint8_t rdata[255];
        size_t rdlen = 4;
        if (an[i].type == MK_DNS_TYPE_A)
            put32(rdata, an[i].addr);
        else if (an[i].type != MK_DNS_TYPE_PTR || (rdlen = text_wire(an[i].name, rdata)) == 0)
            return 0;
        if (cap - off < 12 + rdlen) {
            flags |= FLAG_TC;
            break;
        }
        put16(b + off, 0xc000 | HDR_LEN); /* the owner: the question's name */
        put16(b + off + 2, an[i].type);
        put16(b + off + 4, CLASS_IN);
        put32(b + off + 6, MK_DNS_TTL);
        put16(b + off + 10, (uint16_t)rdlen);
        memcpy(b + off + 12, rdata, rdlen);
        off += 12 + rdlen;
        count++;
    }
    put16(b + 2, flags);
    put16(b + 6, count);
    return off;
}

/* "4.3.2.1.in-addr.arpa" into 1.2.3.4 (host order). */
static bool ptr_addr(const char *name, uint32_t *out)
{
    uint32_t addr = 0;
    const char *p = name;
    for (int i = 0; i < 4; i++) {
        unsigned v = 0, digits = 0;
        for (; *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
            v = v * 10 + (unsigned)(*p - '0');
        if (digits == 0 || digits > 3 || v > 255 || *p++ != '.')
            return false;
        addr |= (uint32_t)v << (8 * i);
    }
    if (strcmp(p, "in-addr.arpa") != 0)
        return false;
    *out = addr;
    return true;
}

/* ---- upstreams ---- */

int mk_dns_upstream_parse(const char *s, uint16_t port, struct mk_dns_upstream *out, mk_err **err)
{
    struct mk_dns_upstream u = {0};
    if (inet_pton(AF_INET, s, &u.addr.in.sin_addr) == 1) {
        u.addr.in.sin_family = AF_INET;
        u.addr.in.sin_port = htons(port);
        u.len = sizeof(u.addr.in);
        *out = u;
        return 0;
    }
    /* getaddrinfo for IPv6 and its "%eth0" scope; it would take "1.2.3" as IPv4. */
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST,
                             .ai_family = AF_INET6,
                             .ai_socktype = SOCK_DGRAM},
                    *res = NULL;
    if (getaddrinfo(s, NULL, &hints, &res) != 0 || res == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "invalid nameserver address \"%s\"", s);
    bool ok = res->ai_addrlen == sizeof(u.addr.in6);
    if (ok)
        memcpy(&u.addr.in6, res->ai_addr, sizeof(u.addr.in6));
    freeaddrinfo(res);
    if (!ok)
        return mk_err_set(err, MK_ERR_INVALID, "invalid nameserver address \"%s\"", s);
    u.addr.in6.sin6_port = htons(port);
    u.len = sizeof(u.addr.in6);
    *out = u;
    return 0;
}

int mk_dns_upstreams_from_resolv_conf(const char *path,
                                      struct mk_dns_upstream out[MK_DNS_MAX_UPSTREAMS], size_t *n,
                                      mk_err **err)
{
    _cleanup_free_ char *data = NULL;
    if (mk_read_file(path, &data, NULL, err) < 0)
        return -1;
    size_t count = 0;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line != NULL && count < MK_DNS_MAX_UPSTREAMS;
         line = strtok_r(NULL, "\n", &save)) {
        line += strspn(line, " \t");
        if (!mk_str_has_prefix(line, "nameserver") || strchr(" \t", line[10]) == NULL ||
            line[10] == '\0')
            continue;
        char *addr = line + 10 + strspn(line + 10, " \t");
        addr[strcspn(addr, " \t\r#;")] = '\0';
        if (mk_dns_upstream_parse(addr, 53, &out[count], NULL) == 0)
            count++;
    }
    *n = count;
    return 0;
}

static bool upstream_is_loopback(const struct mk_dns_upstream *u)
{
    if (u->addr.sa.sa_family == AF_INET)
        return (ntohl(u->addr.in.sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&u->addr.in6.sin6_addr);
}

/* ---- the server ---- */

enum kind { KIND_UDP, KIND_LISTEN, KIND_CONN, KIND_FWD };

/* A TCP client: length-prefixed queries in, replies out (in any order). */
struct conn {
    enum kind kind;
    int fd;
    bool dead, in_eof;
    uint32_t events;
    uint8_t *in; /* 2 + MAX_MSG bytes */
    size_t in_len;
    mk_buf out;
    size_t out_off;
    int inflight;
    int64_t idle_deadline;
    struct conn *next;
};

/* A query forwarded upstream. */
struct fwd {
    enum kind kind;
    int fd;
    bool dead, tcp;
    uint32_t events;
    struct mk_dns_query q; /* the client's question and id */
    uint16_t up_id;
    uint8_t *msg; /* the query as sent upstream, after a 2-byte length (for TCP) */
    size_t msg_len;
    union {
        struct sockaddr sa;
        struct sockaddr_storage ss;
    } client; /* a UDP client */
    socklen_t client_len;
    struct conn *conn; /* a TCP client, NULL once it went away */
    size_t upstream;   /* the index tried */
    int64_t deadline;  /* monotonic ns */
    size_t out_off;    /* TCP: bytes of the length and msg written */
    uint8_t *in;       /* TCP: 2 + MAX_MSG bytes */
    size_t in_len;
    struct fwd *next;
};

struct mk_dns_server {
    struct mk_dns_config cfg;
    int epfd, udp_fd, tcp_fd, own_netns;
    enum kind udp_kind, listen_kind;
    struct conn *conns, *dead_conns;
    struct fwd *fwds, *dead_fwds;
    size_t nconns, nfwds;
    uint64_t rng;
    uint8_t rx[MAX_MSG + 1];
    uint8_t tx[MAX_MSG];
};

/* xorshift64*, seeded from getrandom: it only shuffles answers. */
static uint32_t rng_next(struct mk_dns_server *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (uint32_t)((s->rng * 0x2545f4914f6cdd1dull) >> 32);
}

/* The id a forwarded query carries: unpredictable, as a resolver's must be. */
static uint16_t random_id(struct mk_dns_server *s)
{
    uint16_t id;
    if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id))
        id = (uint16_t)rng_next(s);
    return id;
}

static void watch(struct mk_dns_server *s, int fd, void *tag, uint32_t *cur, uint32_t want)
{
    if (*cur == want)
        return;
    struct epoll_event ev = {.events = want, .data.ptr = tag};
    int op = *cur == 0 ? EPOLL_CTL_ADD : want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (epoll_ctl(s->epfd, op, fd, &ev) == 0)
        *cur = want;
}

static void conn_kill(struct mk_dns_server *s, struct conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    for (struct fwd *f = s->fwds; f != NULL; f = f->next)
        if (f->conn == c)
            f->conn = NULL;
    for (struct conn **pp = &s->conns; *pp != NULL; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    s->nconns--;
    close(c->fd); /* epoll forgets it */
    c->next = s->dead_conns;
    s->dead_conns = c;
}

static void fwd_kill(struct mk_dns_server *s, struct fwd *f)
{
    if (f->dead)
        return;
    f->dead = true;
    if (f->conn != NULL)
        f->conn->inflight--;
    for (struct fwd **pp = &s->fwds; *pp != NULL; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    s->nfwds--;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    f->next = s->dead_fwds;
    s->dead_fwds = f;
}

static void reap(struct mk_dns_server *s)
{
    while (s->dead_conns != NULL) {
        struct conn *c = s->dead_conns;
        s->dead_conns = c->next;
        free(c->in);
        mk_buf_free(&c->out);
        free(c);
    }
    while (s->dead_fwds != NULL) {
        struct fwd *f = s->dead_fwds;
        s->dead_fwds = f->next;
        free(f->msg);
        free(f->in);
        free(f);
    }
}

/* Queue a reply for a TCP client; conn_pump writes it. */
static void conn_queue(struct conn *c, const uint8_t *msg, size_t len)
{
    uint8_t lenbuf[2];
    put16(lenbuf, (uint16_t)len);
    mk_buf_append(&c->out, lenbuf, 2);
    mk_buf_append(&c->out, msg, len);
}

struct origin {
    const struct sockaddr *addr; /* UDP */
    socklen_t addr_len;
    struct conn *conn; /* TCP */
};

static void send_reply(struct mk_dns_server *s, const struct origin *o, const uint8_t *msg,
                       size_t len)
{
    if (o->conn != NULL)
        conn_queue(o->conn, msg, len);
    else /* a full socket buffer drops it, as the network would */
        sendto(s->udp_fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, o->addr, o->addr_len);
}

static void reply_rcode(struct mk_dns_server *s, const struct origin *o,
                        const struct mk_dns_query *q, int rcode)
{
    size_t n = mk_dns_build_reply(q, rcode, NULL, 0, s->tx, sizeof(s->tx));
    if (n > 0)
        send_reply(s, o, s->tx, n);
}

static bool same_question(const struct mk_dns_query *a, const struct mk_dns_query *b)
{
    return a->qtype == b->qtype && a->qclass == b->qclass && strcmp(a->name, b->name) == 0;
}

static int upstream_socket(struct mk_dns_server *s, const struct mk_dns_upstream *u, int type)
{
    int flags = type | SOCK_NONBLOCK | SOCK_CLOEXEC;
    if (s->cfg.upstream_netns_fd < 0 || upstream_is_loopback(u))
        return socket(u->addr.sa.sa_family, flags, 0);
    /* A socket stays in the namespace it was made in: enter, make, leave. */
    if (s->own_netns < 0 || setns(s->cfg.upstream_netns_fd, CLONE_NEWNET) < 0)
        return -1;
    int fd = socket(u->addr.sa.sa_family, flags, 0);
    if (setns(s->own_netns, CLONE_NEWNET) < 0)
        abort(); /* the monitor's own sockets must never land in the container's */
    return fd;
}

static void fwd_relay(struct mk_dns_server *s, struct fwd *f, uint8_t *reply, size_t len)
{
    put16(reply, f->q.id);
    struct origin o = {&f->client.sa, f->client_len, f->conn};
    if (!f->tcp || f->conn != NULL)
        send_reply(s, &o, reply, len);
    fwd_kill(s, f);
}

static void fwd_fail(struct mk_dns_server *s, struct fwd *f)
{
    struct origin o = {&f->client.sa, f->client_len, f->conn};
    if (!f->tcp || f->conn != NULL)
        reply_rcode(s, &o, &f->q, MK_DNS_SERVFAIL);
    fwd_kill(s, f);
}

/* Send f to upstream f->upstream or, failing that, the next ones; SERVFAIL
 * when none is left. */
static void fwd_start(struct mk_dns_server *s, struct fwd *f)
{
    for (; f->upstream < s->cfg.nupstreams; f->upstream++) {
        const struct mk_dns_upstream *u = &s->cfg.upstreams[f->upstream];
        if (f->fd >= 0)
            close(f->fd);
        f->events = 0;
        f->out_off = 0;
        f->in_len = 0;
        f->fd = upstream_socket(s, u, f->tcp ? SOCK_STREAM : SOCK_DGRAM);
        if (f->fd < 0)
            continue;
        /* A new id for every upstream: a late reply of the previous one is not taken. */
        f->up_id = random_id(s);
        put16(f->msg + 2, f->up_id);
        int r = connect(f->fd, &u->addr.sa, u->len);
        if (r < 0 && !(f->tcp && errno == EINPROGRESS))
            continue;
        if (!f->tcp && send(f->fd, f->msg + 2, f->msg_len, MSG_NOSIGNAL) != (ssize_t)f->msg_len)
            continue;
        f->deadline = mk_monotonic_ns() + (int64_t)s->cfg.timeout_ms * 1000000;
        watch(s, f->fd, f, &f->events, f->tcp ? EPOLLOUT : EPOLLIN);
        if (f->events != 0)
            return;
    }
    fwd_fail(s, f);
}

static void fwd_next(struct mk_dns_server *s, struct fwd *f)
{
    f->upstream++;
    fwd_start(s, f);
}

/* A reply from f's upstream: relayed, or the next upstream tried on
 * SERVFAIL/REFUSED.  Replies that are not to f's query are ignored. */
static void fwd_reply(struct mk_dns_server *s, struct fwd *f, uint8_t *msg, size_t len)
{
    struct mk_dns_query r;
    if (mk_dns_parse_query(msg, len, &r, NULL) < 0 || !(r.flags & FLAG_QR) || r.id != f->up_id ||
        !same_question(&r, &f->q))
        return;
    int rcode = r.flags & 0xf;
    if (rcode == MK_DNS_SERVFAIL || rcode == MK_DNS_REFUSED)
        fwd_next(s, f);
    else
        fwd_relay(s, f, msg, len);
}

static void fwd_udp_event(struct mk_dns_server *s, struct fwd *f)
{
    for (int i = 0; i < UDP_BATCH && !f->dead; i++) {
        int fd = f->fd;
        ssize_t n = recv(fd, s->rx, sizeof(s->rx), MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                fwd_next(s, f); /* ECONNREFUSED: nothing listens there */
            return;
        }
        fwd_reply(s, f, s->rx, (size_t)n);
        if (f->fd != fd) /* moved on to another upstream */
            return;
    }
}

static void fwd_tcp_event(struct mk_dns_server *s, struct fwd *f)
{
    size_t total = 2 + f->msg_len;
    if (f->out_off < total) {
        ssize_t n = send(f->fd, f->msg + f->out_off, total - f->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                fwd_next(s, f);
            return;
        }
        f->out_off += (size_t)n;
        if (f->out_off == total)
            watch(s, f->fd, f, &f->events, EPOLLIN);
        return;
    }
    if (f->in == NULL)
        f->in = xmalloc(2 + MAX_MSG);
    size_t want = f->in_len < 2 ? 2 : 2 + (size_t)get16(f->in);
    ssize_t n = recv(f->fd, f->in + f->in_len, want - f->in_len, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        fwd_next(s, f);
        return;
    }
    if (n < 0)
        return;
    f->in_len += (size_t)n;
    if (f->in_len == 2 && get16(f->in) == 0) {
        fwd_next(s, f);
        return;
    }
    if (f->in_len > 2 && f->in_len == 2 + (size_t)get16(f->in)) {
        int fd = f->fd;
        fwd_reply(s, f, f->in + 2, f->in_len - 2);
        if (!f->dead && f->fd == fd) /* not the reply to our query: a TCP upstream that lies */
            fwd_next(s, f);
    }
}

/* Forward the client's query msg (q parsed from it). */
static void forward(struct mk_dns_server *s, const struct origin *o, const uint8_t *msg, size_t len,
                    const struct mk_dns_query *q)
{
    if (s->cfg.nupstreams == 0) {
        reply_rcode(s, o, q, MK_DNS_SERVFAIL);
        return;
    }
    /* A client's retransmission while the first is pending: the answer to that serves both. */
    for (struct fwd *f = s->fwds; o->conn == NULL && f != NULL; f = f->next)
        if (!f->tcp && f->q.id == q->id && f->client_len == o->addr_len &&
            memcmp(&f->client, o->addr, o->addr_len) == 0 && same_question(&f->q, q))
            return;
    if (s->nfwds >= MAX_FORWARDS) {
        reply_rcode(s, o, q, MK_DNS_REFUSED); /* docker's answer past its limit */
        return;
    }
    struct fwd *f = xcalloc(1, sizeof(*f));
    f->kind = KIND_FWD;
    f->fd = -1;
    f->tcp = o->conn != NULL;
    f->q = *q;
    f->msg = xmalloc(2 + len);
    put16(f->msg, (uint16_t)len);
    memcpy(f->msg + 2, msg, len);
    f->msg_len = len;
    if (o->conn != NULL) {
        f->conn = o->conn;
        f->conn->inflight++;
    } else {
        memcpy(&f->client, o->addr, o->addr_len);
        f->client_len = o->addr_len;
    }
    f->next = s->fwds;
    s->fwds = f;
    s->nfwds++;
    fwd_start(s, f);
}

/* Answer q from the container side's names, or return false. */
static bool answer_locally(struct mk_dns_server *s, const struct origin *o,
                           const struct mk_dns_query *q, size_t cap)
{
    if (q->qclass != CLASS_IN || q->name[0] == '\0')
        return false;
    uint32_t addrs[MAX_ADDRS];
    struct mk_dns_answer an[MAX_ADDRS];
    size_t n = 0;
    char ptr_name[256];
    switch (q->qtype) {
    case MK_DNS_TYPE_A:
    case MK_DNS_TYPE_AAAA:
    case MK_DNS_TYPE_MX: {
        int r = s->cfg.lookup(s->cfg.ctx, q->name, addrs, MAX_ADDRS);
        if (r <= 0) {
            /* --dns-option ndots:N: a single label goes on to the search domains. */
            if (!s->cfg.ndots_set || q->qtype == MK_DNS_TYPE_MX || strchr(q->name, '.') != NULL)
                return false;
            break;
        }
        if (q->qtype != MK_DNS_TYPE_A)
            break; /* known, but only IPv4: an empty answer, not forwarded */
        n = (size_t)r < MAX_ADDRS ? (size_t)r : MAX_ADDRS;
        for (size_t i = n - 1; i > 0; i--) { /* round robin, as docker shuffles */
            size_t j = rng_next(s) % (i + 1);
            uint32_t t = addrs[i];
            addrs[i] = addrs[j];
            addrs[j] = t;
        }
        for (size_t i = 0; i < n; i++)
            an[i] = (struct mk_dns_answer){.type = MK_DNS_TYPE_A, .addr = addrs[i]};
        break;
    }
    case MK_DNS_TYPE_PTR: {
        uint32_t addr;
        if (s->cfg.reverse == NULL || !ptr_addr(q->name, &addr))
            return false;
        ptr_name[0] = '\0';
        if (!s->cfg.reverse(s->cfg.ctx, addr, ptr_name, sizeof(ptr_name)))
            return false;
        ptr_name[sizeof(ptr_name) - 1] = '\0';
        an[n++] = (struct mk_dns_answer){.type = MK_DNS_TYPE_PTR, .name = ptr_name};
        break;
    }
    default:
        return false;
    }
    size_t len = mk_dns_build_reply(q, MK_DNS_NOERROR, an, n, s->tx, cap);
    if (len == 0)
        len = mk_dns_build_reply(q, MK_DNS_SERVFAIL, NULL, 0, s->tx, cap);
    if (len > 0)
        send_reply(s, o, s->tx, len);
    return true;
}

static void handle_query(struct mk_dns_server *s, const struct origin *o, const uint8_t *msg,
                         size_t len)
{
    struct mk_dns_query q;
    if (mk_dns_parse_query(msg, len, &q, NULL) < 0 || (q.flags & FLAG_QR))
        return; /* garbage, or a reply: nothing to answer */
    if ((q.flags & OPCODE_MASK) != 0) {
        reply_rcode(s, o, &q, MK_DNS_NOTIMP);
        return;
    }
    size_t cap = MAX_MSG;
    if (o->conn == NULL)
        cap = q.udp_size > MIN_UDP_REPLY ? q.udp_size : MIN_UDP_REPLY;
    if (!answer_locally(s, o, &q, cap))
        forward(s, o, msg, len, &q);
}

static void udp_event(struct mk_dns_server *s)
{
    for (int i = 0; i < UDP_BATCH; i++) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof(from);
        ssize_t n = recvfrom(s->udp_fd, s->rx, sizeof(s->rx), MSG_DONTWAIT,
                             (struct sockaddr *)&from, &from_len);
        if (n < 0)
            return;
        struct origin o = {(struct sockaddr *)&from, from_len, NULL};
        handle_query(s, &o, s->rx, (size_t)n);
    }
}

static void listen_event(struct mk_dns_server *s)
{
    for (int i = 0; i < MAX_CONNS; i++) {
        int fd = accept4(s->tcp_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (s->nconns >= MAX_CONNS) {
            close(fd); /* the client sees the connection end and retries */
            continue;
        }
        struct conn *c = xcalloc(1, sizeof(*c));
        c->kind = KIND_CONN;
        c->fd = fd;
        c->in = xmalloc(2 + MAX_MSG);
        c->idle_deadline = mk_monotonic_ns() + (int64_t)CONN_IDLE_MS * 1000000;
        c->next = s->conns;
        s->conns = c;
        s->nconns++;
    }
}

/* Answer what a TCP client sent while it has room for more, write what is
 * queued, and watch for what it may do next. */
static void conn_pump(struct mk_dns_server *s, struct conn *c)
{
    for (;;) {
        if (c->inflight >= CONN_MAX_INFLIGHT || c->out.len - c->out_off >= CONN_OUT_HWM ||
            c->in_len < 2)
            break;
        size_t mlen = get16(c->in);
        if (c->in_len < 2 + mlen)
            break;
        struct origin o = {NULL, 0, c};
        /* handle_query may overwrite s->rx, never c->in */
        handle_query(s, &o, c->in + 2, mlen);
        memmove(c->in, c->in + 2 + mlen, c->in_len - 2 - mlen);
        c->in_len -= 2 + mlen;
    }
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            conn_kill(s, c);
            return;
        }
        c->out_off += (size_t)n;
        c->idle_deadline = mk_monotonic_ns() + (int64_t)CONN_IDLE_MS * 1000000;
    }
    if (c->out_off == c->out.len) {
        c->out.len = 0;
        c->out_off = 0;
    }
    bool want_in = !c->in_eof && c->inflight < CONN_MAX_INFLIGHT &&
                   c->out.len - c->out_off < CONN_OUT_HWM && c->in_len < 2 + MAX_MSG;
    if (c->in_eof && c->inflight == 0 && c->out.len == 0) {
        conn_kill(s, c);
        return;
    }
    watch(s, c->fd, c, &c->events,
          (want_in ? EPOLLIN : 0) | (c->out.len > c->out_off ? EPOLLOUT : 0));
}

static void conn_event(struct mk_dns_server *s, struct conn *c, uint32_t events)
{
    if ((events & EPOLLIN) && c->in_len < 2 + MAX_MSG) {
        ssize_t n = recv(c->fd, c->in + c->in_len, 2 + MAX_MSG - c->in_len, MSG_DONTWAIT);
        if (n == 0)
            c->in_eof = true;
        else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            conn_kill(s, c);
            return;
        } else if (n > 0) {
            c->in_len += (size_t)n;
            c->idle_deadline = mk_monotonic_ns() + (int64_t)CONN_IDLE_MS * 1000000;
        }
    }
    if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
        conn_kill(s, c);
        return;
    }
    /* A zero-length message is nothing a client sends: the stream is garbage. */
    if (c->in_len >= 2 && get16(c->in) == 0)
        conn_kill(s, c);
}

static void expire(struct mk_dns_server *s)
{
    int64_t now = mk_monotonic_ns();
    struct fwd *fnext;
    for (struct fwd *f = s->fwds; f != NULL; f = fnext) {
        fnext = f->next;
        if (f->deadline <= now)
            fwd_next(s, f); /* may kill f; fnext is still listed */
    }
    struct conn *cnext;
    for (struct conn *c = s->conns; c != NULL; c = cnext) {
        cnext = c->next;
        if (c->idle_deadline <= now && c->inflight == 0)
            conn_kill(s, c);
    }
}

void mk_dns_server_process(struct mk_dns_server *s)
{
    struct epoll_event evs[64];
    int n = epoll_wait(s->epfd, evs, 64, 0);
    for (int i = 0; i < n; i++) {
        enum kind *k = evs[i].data.ptr;
        switch (*k) {
        case KIND_UDP:
            udp_event(s);
            break;
        case KIND_LISTEN:
            listen_event(s);
            break;
        case KIND_CONN: {
            struct conn *c = (struct conn *)k;
            if (!c->dead)
                conn_event(s, c, evs[i].events);
            break;
        }
        case KIND_FWD: {
            struct fwd *f = (struct fwd *)k;
            if (f->dead)
                break;
            if (f->tcp)
                fwd_tcp_event(s, f);
            else
                fwd_udp_event(s, f);
            break;
        }
        default:
            break;
        }
    }
    expire(s);
    struct conn *next;
    for (struct conn *c = s->conns; c != NULL; c = next) {
        next = c->next;
        conn_pump(s, c);
    }
    reap(s);
}

int mk_dns_server_timeout_ms(const struct mk_dns_server *s)
{
    int64_t next = INT64_MAX, now = mk_monotonic_ns();
    for (const struct fwd *f = s->fwds; f != NULL; f = f->next)
        if (f->deadline < next)
            next = f->deadline;
    for (const struct conn *c = s->conns; c != NULL; c = c->next)
        if (c->inflight == 0 && c->idle_deadline < next)
            next = c->idle_deadline;
    if (next == INT64_MAX)
        return -1;
    return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

int mk_dns_server_fd(const struct mk_dns_server *s)
{
    return s->epfd;
}

struct mk_dns_server *mk_dns_server_new(int udp_fd, int tcp_fd, const struct mk_dns_config *cfg,
                                        mk_err **err)
{
    struct mk_dns_server *s = xcalloc(1, sizeof(*s));
    s->udp_fd = udp_fd;
    s->tcp_fd = tcp_fd;
    s->own_netns = -1;
    s->cfg = *cfg;
    if (s->cfg.nupstreams > MK_DNS_MAX_UPSTREAMS)
        s->cfg.nupstreams = MK_DNS_MAX_UPSTREAMS;
    if (s->cfg.timeout_ms <= 0)
        s->cfg.timeout_ms = DEFAULT_TIMEOUT_MS;
    s->udp_kind = KIND_UDP;
    s->listen_kind = KIND_LISTEN;
    if (getrandom(&s->rng, sizeof(s->rng), GRND_NONBLOCK) != sizeof(s->rng) || s->rng == 0)
        s->rng = (uint64_t)mk_monotonic_ns() | 1;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        mk_err_sys(err, "dns server: epoll_create1");
        mk_dns_server_free(s);
        return NULL;
    }
    if (cfg->lookup == NULL) {
        mk_err_set(err, MK_ERR_INVALID, "dns server: no lookup function");
        mk_dns_server_free(s);
        return NULL;
    }
    if (cfg->upstream_netns_fd >= 0) {
        /* A config whose field was left 0 would otherwise setns into stdin. */
        if (ioctl(cfg->upstream_netns_fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
            mk_err_set(err, MK_ERR_INVALID, "dns server: fd %d is not a network namespace",
                       cfg->upstream_netns_fd);
            mk_dns_server_free(s);
            return NULL;
        }
        s->own_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (s->own_netns < 0) {
            mk_err_sys(err, "dns server: open /proc/thread-self/ns/net");
            mk_dns_server_free(s);
            return NULL;
        }
    }
    uint32_t ev = 0;
    if (mk_fd_set_nonblock(udp_fd, true) < 0 ||
        (tcp_fd >= 0 && mk_fd_set_nonblock(tcp_fd, true) < 0)) {
        mk_err_sys(err, "dns server: set its sockets non-blocking");
        mk_dns_server_free(s);
        return NULL;
    }
    watch(s, udp_fd, &s->udp_kind, &ev, EPOLLIN);
    uint32_t lev = 0;
    if (tcp_fd >= 0)
        watch(s, tcp_fd, &s->listen_kind, &lev, EPOLLIN);
    if (ev == 0 || (tcp_fd >= 0 && lev == 0)) {
        mk_err_sys(err, "dns server: watch its sockets");
        mk_dns_server_free(s);
        return NULL;
    }
    return s;
}

void mk_dns_server_free(struct mk_dns_server *s)
{
    if (s == NULL)
        return;
    while (s->fwds != NULL) {
        struct fwd *f = s->fwds;
        f->conn = NULL;
        fwd_kill(s, f);
    }
    while (s->conns != NULL)
        conn_kill(s, s->conns);
    reap(s);
    if (s->epfd >= 0)
        close(s->epfd);
    if (s->udp_fd >= 0)
        close(s->udp_fd);
    if (s->tcp_fd >= 0)
        close(s->tcp_fd);
    if (s->own_netns >= 0)
        close(s->own_netns);
    free(s);
}

/* ---- sockets in a container's namespace ---- */

/* One try; *retry when port 0 gave a UDP port whose TCP twin is taken. */
static int bind_sockets(uint32_t addr, uint16_t port, int *udp_out, int *tcp_out, bool *retry,
                        mk_err **err)
{
    char ip[16];
    mk_ipv4_str(addr, ip);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(addr), .sin_port = htons(port)};
    _cleanup_close_ int udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (udp < 0 || bind(udp, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return mk_err_sys(err, "listen on %s:%u/udp", ip, port);
    socklen_t sl = sizeof(sa);
    if (getsockname(udp, (struct sockaddr *)&sa, &sl) < 0)
        return mk_err_sys(err, "listen on %s:%u/udp", ip, port);
    _cleanup_close_ int tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    /* A restarted monitor binds again while the last one's connections linger. */
    if (tcp < 0 || setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(tcp, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(tcp, 64) < 0) {
        *retry = port == 0 && errno == EADDRINUSE;
        return mk_err_sys(err, "listen on %s:%u/tcp", ip, ntohs(sa.sin_port));
    }
    *udp_out = steal_fd(&udp);
    *tcp_out = steal_fd(&tcp);
    return 0;
}

static int bind_both(uint32_t addr, uint16_t port, int *udp_out, int *tcp_out, mk_err **err)
{
    for (int attempt = 0;; attempt++) {
        bool retry = false;
        _cleanup_err_ mk_err *e = NULL;
        if (bind_sockets(addr, port, udp_out, tcp_out, &retry, &e) == 0)
            return 0;
        if (!retry || attempt == 31) {
            if (err != NULL)
                *err = steal_pointer(&e);
            return -1;
        }
    }
}

int mk_dns_listen(int netns_fd, uint32_t addr, uint16_t port, int *udp_fd, int *tcp_fd,
                  mk_err **err)
{
    if (netns_fd < 0)
        return bind_both(addr, port, udp_fd, tcp_fd, err);
    _cleanup_close_ int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (own < 0)
        return mk_err_sys(err, "open /proc/thread-self/ns/net");
    if (setns(netns_fd, CLONE_NEWNET) < 0)
        return mk_err_sys(err, "enter the container's network namespace");
    int r = bind_both(addr, port, udp_fd, tcp_fd, err);
    if (setns(own, CLONE_NEWNET) < 0)
        abort(); /* every socket made after this would land in the container's */
    return r;
}
