/* console.c: the container's terminal, allocated from its own devpts instance
 * and handed to the caller over the OCI console socket (SCM_RIGHTS). */
#include "runtime/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>

int rt_console_create(int ptmx, int sock, const json_t *size, int *slave, mk_err **err)
{
    _cleanup_close_ int master = ptmx;
    if (sock < 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "process.terminal is set but there is no console socket");
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
        return mk_err_sys(err, "unlockpt");
    /* TIOCGPTPEER opens the peer without a path lookup in anyone's /dev. */
    int fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return mk_err_sys(err, "open the pty slave");
    /* the size the client's terminal has (docker run -t sends it), set
     * before the process can ask */
    json_int_t h = json_integer_value(json_object_get(size, "height"));
    json_int_t w = json_integer_value(json_object_get(size, "width"));
    if (h > 0 && w > 0 && h <= 0xffff && w <= 0xffff) {
        struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
        ioctl(master, TIOCSWINSZ, &ws);
    }
    if (mk_send_fd(sock, master, err) < 0) {
        close(fd);
        return mk_err_wrap(err, "console socket");
    }
    *slave = fd;
    return 0;
}

int rt_console_attach(int slave, mk_err **err)
{
    if (setsid() < 0)
        return mk_err_sys(err, "setsid");
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return mk_err_sys(err, "make the pty the controlling terminal");
    for (int i = 0; i < 3; i++)
        if (dup2(slave, i) < 0)
            return mk_err_sys(err, "dup2 the pty");
    if (slave > 2)
        close(slave);
    return 0;
}
