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

int mk_send_fd(int sock, int fd, mk_err **err)
{
    char byte = 'F';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof(u));
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = u.buf,
                         .msg_controllen = sizeof(u.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return mk_err_sys(err, "send fd");
    return 0;
}

int mk_recv_fd(int sock, mk_err **err)
{
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = u.buf,
                         .msg_controllen = sizeof(u.buf)};
    ssize_t n;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return mk_err_sys(err, "receive fd");
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (n == 0 || c == NULL || c->cmsg_type != SCM_RIGHTS)
        return mk_err_set(err, MK_ERR_INTERNAL, "receive fd: no descriptor in message");
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}
