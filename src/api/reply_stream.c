/* reply_stream.c: a response body made by a function that writes to an fd
 * (a tar of a container's files, a saved image), sent as it is produced. */
#include "api/api.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>

struct stream_job {
    mk_api_producer produce;
    void *ctx;
    int fd; /* the pipe's write end, closed by the thread */
    int rc;
    mk_err *err;
};

static void *stream_main(void *p)
{
    struct stream_job *j = p;
    j->rc = j->produce(j->ctx, j->fd, &j->err);
    close(j->fd);
    return NULL;
}

static ssize_t read_some(int fd, void *buf, size_t len)
{
    ssize_t n;
    while ((n = read(fd, buf, len)) < 0 && errno == EINTR)
        ;
    return n;
}

int mk_api_reply_stream(struct mk_api_ctx *c, const char *content_type, mk_api_producer produce,
                        void *ctx, mk_err **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return mk_err_sys(err, "pipe");
    _cleanup_close_ int rfd = p[0];
    struct stream_job j = {.produce = produce, .ctx = ctx, .fd = p[1]};
    pthread_t thread;
    int r = pthread_create(&thread, NULL, stream_main, &j);
    if (r != 0) {
        close(p[1]);
        return mk_err_errno(err, r, "start the stream");
    }
    _cleanup_free_ char *buf = xmalloc(65536);
    ssize_t n = read_some(rfd, buf, 65536);
    bool sent = n > 0 ? mk_http_reply_begin_chunked(c->reply, 200, content_type) == 0 : false;
    while (sent && n > 0) {
        /* A client that went away: closing the pipe stops the producer (EPIPE). */
        if (mk_http_reply_chunk(c->reply, buf, (size_t)n) < 0)
            break;
        n = read_some(rfd, buf, 65536);
    }
    mk_closep(&rfd);
    pthread_join(thread, NULL);
    if (j.rc < 0) {
        /* Before the first byte it is the answer; after it, the connection
         * ends without the last chunk, so the client sees the stream fail. */
        *err = steal_pointer(&j.err);
        return -1;
    }
    if (n < 0)
        return mk_err_sys(err, "read the stream");
    if (!c->reply->started)
        return mk_http_reply_begin_chunked(c->reply, 200, content_type) < 0
                   ? -1
                   : mk_http_reply_end_chunked(c->reply);
    if (c->reply->failed)
        return mk_err_set(err, MK_ERR_INTERNAL, "the client went away");
    return mk_http_reply_end_chunked(c->reply);
}
