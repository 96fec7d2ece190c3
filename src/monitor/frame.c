/* frame.c: the attach protocol's framing.  Each frame is docker's 8-byte
 * multiplexed-stream header [type, 0, 0, 0, length as u32 big endian] followed
 * by the payload, so stdout/stderr frames pass through to docker clients as they
 * are.  Blocking helpers for simple callers, and an incremental reader for the
 * non-blocking sockets of the monitor and the attach client. */
#include "monitor/monitor.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define READ_CHUNK 65536

void mk_frame_header(uint8_t hdr[MK_FRAME_HEADER_LEN], enum mk_frame_type type, uint32_t len)
{
    hdr[0] = (uint8_t)type;
    hdr[1] = hdr[2] = hdr[3] = 0;
    hdr[4] = (uint8_t)(len >> 24);
    hdr[5] = (uint8_t)(len >> 16);
    hdr[6] = (uint8_t)(len >> 8);
    hdr[7] = (uint8_t)len;
}

int mk_frame_header_parse(const uint8_t hdr[MK_FRAME_HEADER_LEN], enum mk_frame_type *type,
                          uint32_t *len)
{
    uint32_t n = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 | (uint32_t)hdr[6] << 8 | hdr[7];
    if (hdr[0] > MK_FRAME_LAST || hdr[1] != 0 || hdr[2] != 0 || hdr[3] != 0 || n > MK_FRAME_MAX) {
        errno = EPROTO;
        return -1;
    }
    *type = (enum mk_frame_type)hdr[0];
    *len = n;
    return 0;
}

/* sendmsg with MSG_NOSIGNAL so a vanished peer is EPIPE rather than a fatal
 * SIGPIPE; plain writev for pipes and files. */
static ssize_t send_iov(int fd, struct iovec *iov, int n)
{
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    ssize_t r = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (r < 0 && errno == ENOTSOCK)
        r = writev(fd, iov, n);
    return r;
}

int mk_frame_write(int fd, enum mk_frame_type type, const void *data, size_t len)
{
    if (len > MK_FRAME_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    uint8_t hdr[MK_FRAME_HEADER_LEN];
    mk_frame_header(hdr, type, (uint32_t)len);
    struct iovec iov[2] = {{.iov_base = hdr, .iov_len = sizeof(hdr)},
                           {.iov_base = (void *)data, .iov_len = len}};
    struct iovec *v = iov;
    int n = len > 0 ? 2 : 1;
    while (n > 0) {
        ssize_t w = send_iov(fd, v, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                /* A non-blocking fd: this helper still promises the whole frame. */
                struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                    return -1;
                continue;
            }
            return -1;
        }
        size_t done = (size_t)w;
        while (n > 0 && done >= v->iov_len) {
            done -= v->iov_len;
            v++;
            n--;
        }
        if (n > 0) {
            v->iov_base = (char *)v->iov_base + done;
            v->iov_len -= done;
        }
    }
    return 0;
}

int mk_frame_read(int fd, enum mk_frame_type *type, char **data, size_t *len)
{
    uint8_t hdr[MK_FRAME_HEADER_LEN];
    ssize_t n = mk_read_all(fd, hdr, sizeof(hdr));
    if (n < 0)
        return -1;
    if (n == 0)
        return 0;
    enum mk_frame_type t;
    uint32_t plen;
    if ((size_t)n < sizeof(hdr) || mk_frame_header_parse(hdr, &t, &plen) < 0) {
        errno = EPROTO;
        return -1;
    }
    _cleanup_free_ char *payload = xmalloc((size_t)plen + 1);
    n = mk_read_all(fd, payload, plen);
    if (n < 0)
        return -1;
    if ((size_t)n < plen) {
        errno = EPROTO;
        return -1;
    }
    payload[plen] = '\0';
    *type = t;
    *len = plen;
    *data = steal_pointer(&payload);
    return 1;
}

ssize_t mk_frame_reader_fill(struct mk_frame_reader *r, int fd)
{
    mk_buf *b = &r->buf;
    if (r->off > 0) {
        memmove(b->data, b->data + r->off, b->len - r->off);
        b->len -= r->off;
        r->off = 0;
    }
    if (b->cap - b->len < READ_CHUNK) {
        b->cap = b->len + READ_CHUNK;
        b->data = xrealloc(b->data, b->cap);
    }
    ssize_t n;
    do
        n = read(fd, b->data + b->len, b->cap - b->len);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        b->len += (size_t)n;
    return n;
}

int mk_frame_reader_next(struct mk_frame_reader *r, enum mk_frame_type *type, const char **data,
                         size_t *len)
{
    size_t avail = r->buf.len - r->off;
    if (avail < MK_FRAME_HEADER_LEN)
        return 0;
    const uint8_t *hdr = (const uint8_t *)r->buf.data + r->off;
    enum mk_frame_type t;
    uint32_t plen;
    if (mk_frame_header_parse(hdr, &t, &plen) < 0)
        return -1;
    if (avail - MK_FRAME_HEADER_LEN < plen)
        return 0;
    *type = t;
    *data = r->buf.data + r->off + MK_FRAME_HEADER_LEN;
    *len = plen;
    r->off += MK_FRAME_HEADER_LEN + plen;
    return 1;
}

void mk_frame_reader_free(struct mk_frame_reader *r)
{
    mk_buf_free(&r->buf);
    r->off = 0;
}
