/* sock.c: unix sockets and fd passing.  Paths longer than sun_path (test roots
 * under /tmp with 64-hex container ids) are reached through an O_PATH fd of their
 * directory and /proc/self/fd/N/name. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Fill addr for path; *dirfd is set when the short /proc form is used. */
static int unix_addr(const char *path, struct sockaddr_un *addr, int *dirfd, mk_err **err)
{
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    *dirfd = -1;
    if (strlen(path) < sizeof(addr->sun_path)) {
        strcpy(addr->sun_path, path);
        return 0;
    }
    _cleanup_free_ char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "socket path too long: %s", path);
    *slash = '\0';
    *dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*dirfd < 0)
        return mk_err_sys(err, "open %s", dir);
    int n = snprintf(addr->sun_path, sizeof(addr->sun_path), "/proc/self/fd/%d/%s", *dirfd,
                     slash + 1);
    if (n < 0 || (size_t)n >= sizeof(addr->sun_path)) {
        close(*dirfd);
        *dirfd = -1;
        return mk_err_set(err, MK_ERR_INVALID, "socket path too long: %s", path);
    }
    return 0;
}

int mk_unix_listen(const char *path, mk_err **err)
{
    struct sockaddr_un addr;
    _cleanup_close_ int dirfd = -1;
    if (unix_addr(path, &addr, &dirfd, err) < 0)
        return -1;
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return mk_err_sys(err, "socket");
    /* A leftover socket is replaced, a live one never: its server would go
     * on running with no way to reach it. */
    _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (probe >= 0 && (connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0 ||
                       errno == EAGAIN)) { /* EAGAIN: live, its backlog full */
        errno = EADDRINUSE;
        return mk_err_sys(err, "bind %s: another process listens on it", path);
    }
    unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        return mk_err_sys(err, "bind %s", path);
    if (listen(fd, 64) < 0)
        return mk_err_sys(err, "listen %s", path);
    return steal_fd(&fd);
}

int mk_unix_connect(const char *path, mk_err **err)
{
    struct sockaddr_un addr;
    _cleanup_close_ int dirfd = -1;
    if (unix_addr(path, &addr, &dirfd, err) < 0)
        return -1;
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return mk_err_sys(err, "socket");
    int r;
    do
        r = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return mk_err_sys(err, "connect %s", path);
    return steal_fd(&fd);
}

int mk_send_fds(int sock, char byte, const int *fds, size_t n, mk_err **err)
{
    if (n > MK_SOCK_MAX_FDS)
        return mk_err_set(err, MK_ERR_INTERNAL, "send fds: %zu is too many", n);
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int) * MK_SOCK_MAX_FDS)];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof(u));
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n > 0) {
        msg.msg_control = u.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    }
    ssize_t r;
    do
        r = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return mk_err_sys(err, "send fd");
    return 0;
}

int mk_recv_fds(int sock, char *byte, int *fds, size_t max, size_t *n, mk_err **err)
{
    struct iovec iov = {.iov_base = byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int) * MK_SOCK_MAX_FDS)];
        struct cmsghdr align;
    } u;
    if (max > MK_SOCK_MAX_FDS)
        max = MK_SOCK_MAX_FDS;
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = max > 0 ? u.buf : NULL,
                         .msg_controllen = max > 0 ? CMSG_SPACE(sizeof(int) * max) : 0};
    *n = 0;
    ssize_t r;
    do
        r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return mk_err_sys(err, "receive fd");
    for (struct cmsghdr *c = max > 0 ? CMSG_FIRSTHDR(&msg) : NULL; c != NULL;
         c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && *n == 0) {
            *n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(fds, CMSG_DATA(c), *n * sizeof(int));
        }
    }
    return r > 0 ? 1 : 0;
}

int mk_send_fd(int sock, int fd, mk_err **err)
{
    return mk_send_fds(sock, 'F', &fd, 1, err);
}

int mk_recv_fd(int sock, mk_err **err)
{
    char byte;
    int fd;
    size_t n;
    int r = mk_recv_fds(sock, &byte, &fd, 1, &n, err);
    if (r < 0)
        return -1;
    if (n == 0)
        return mk_err_set(err, MK_ERR_INTERNAL, "receive fd: no descriptor in message");
    return fd;
}
