/* logfile.c: docker's json-file log driver.  The writer turns container output
 * into one JSON object per line ({"log":"text\n","stream":"stdout","time":...}),
 * splitting on '\n' like docker's copier and rotating path -> path.1 -> ... when
 * max_size is set; the reader serves `logs` with tail, since/until and follow
 * across the rotated files. */
#include "monitor/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>

/* docker's copier reads into a 16 KiB buffer: a longer line is logged in pieces. */
#define LOG_LINE_MAX   16384
#define READ_CHUNK     65536
#define TAIL_CHUNK_MAX (8 << 20)
/* How often follow asks still_running() while the file is quiet. */
#define FOLLOW_POLL_MS 200

enum { STREAM_STDOUT, STREAM_STDERR, STREAM_COUNT };
static const char *const stream_names[STREAM_COUNT] = {"stdout", "stderr"};

struct mk_log_writer {
    char *path;
    int fd;
    int64_t size, max_size;
    int max_file;
    mk_buf partial[STREAM_COUNT]; /* the unfinished line of each stream */
    mk_buf entry;                 /* scratch for one encoded entry */
};

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Go's time.RFC3339Nano in UTC, the form docker's json-file writes: the
 * fraction drops its trailing zeros. */
static void append_time(mk_buf *b, int64_t ns)
{
    int64_t sec = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[64];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    mk_buf_puts(b, buf);
    if (frac != 0) {
        snprintf(buf, sizeof(buf), ".%09lld", (long long)frac);
        size_t n = strlen(buf);
        while (buf[n - 1] == '0')
            n--;
        mk_buf_append(b, buf, n);
    }
    mk_buf_puts(b, "Z");
}

/* Length of the valid UTF-8 sequence at s, 0 if there is none. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t need;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        need = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need;
}

/* A JSON string as Go's encoding/json writes it (docker's log lines are Go
 * JSON): HTML characters and U+2028/9 escaped, invalid UTF-8 as U+FFFD. */
static void append_json_string(mk_buf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, start = 0;
    mk_buf_append(b, "\"", 1);
    while (i < n) {
        unsigned char c = s[i];
        char esc[8];
        size_t l = 1;
        if (c >= 0x80) {
            l = utf8_seq_len(s + i, n - i);
            if (l == 0) {
                strcpy(esc, "\\ufffd");
                l = 1;
            } else if (l == 3 && c == 0xe2 && s[i + 1] == 0x80 &&
                       (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
                strcpy(esc, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
            } else {
                i += l;
                continue;
            }
        } else if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c, esc[2] = '\0';
        } else if (c == '\n') {
            strcpy(esc, "\\n");
        } else if (c == '\r') {
            strcpy(esc, "\\r");
        } else if (c == '\t') {
            strcpy(esc, "\\t");
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
        } else {
            i++;
            continue;
        }
        mk_buf_append(b, s + start, i - start);
        mk_buf_puts(b, esc);
        i += l;
        start = i;
    }
    mk_buf_append(b, s + start, i - start);
    mk_buf_append(b, "\"", 1);
}

static int stream_index(const char *stream, mk_err **err)
{
    for (int i = 0; i < STREAM_COUNT; i++)
        if (strcmp(stream, stream_names[i]) == 0)
            return i;
    return mk_err_set(err, MK_ERR_INVALID, "log: unknown stream %s", stream);
}

static int open_log_file(const char *path, mk_err **err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return mk_err_sys(err, "open log %s", path);
    return fd;
}

int mk_log_writer_open(const char *path, int64_t max_size, int max_file, struct mk_log_writer **out,
                       mk_err **err)
{
    if (max_file < 1)
        return mk_err_set(err, MK_ERR_INVALID, "log: max-file must be at least 1, got %d",
                          max_file);
    _cleanup_close_ int fd = open_log_file(path, err);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return mk_err_sys(err, "stat log %s", path);
    struct mk_log_writer *w = xcalloc(1, sizeof(*w));
    w->path = xstrdup(path);
    w->fd = steal_fd(&fd);
    w->size = st.st_size;
    w->max_size = max_size;
    w->max_file = max_file;
    *out = w;
    return 0;
}

/* docker's scheme: path.(n-1) is dropped, path.i -> path.(i+1), path -> path.1,
 * and a fresh path.  With max_file 1 the fresh file simply replaces the old. */
static int rotate(struct mk_log_writer *w, mk_err **err)
{
    _cleanup_close_ int fd = -1;
    if (w->max_file > 1) {
        for (int i = w->max_file - 1; i > 1; i--) {
            _cleanup_free_ char *from = xasprintf("%s.%d", w->path, i - 1);
            _cleanup_free_ char *to = xasprintf("%s.%d", w->path, i);
            if (rename(from, to) < 0 && errno != ENOENT)
                return mk_err_sys(err, "rotate log %s", from);
        }
        _cleanup_free_ char *first = xasprintf("%s.1", w->path);
        if (rename(w->path, first) < 0)
            return mk_err_sys(err, "rotate log %s", w->path);
        fd = open_log_file(w->path, err);
        if (fd < 0)
            return -1;
    } else {
        _cleanup_free_ char *tmp = xasprintf("%s.rotate", w->path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0)
            return mk_err_sys(err, "open log %s", tmp);
        if (rename(tmp, w->path) < 0) {
            int saved = errno;
            unlink(tmp);
            return mk_err_errno(err, saved, "rotate log %s", w->path);
        }
    }
    close(w->fd);
    w->fd = steal_fd(&fd);
    w->size = 0;
    return 0;
}

static int write_entry(struct mk_log_writer *w, int stream, const char *data, size_t len,
                       mk_err **err)
{
    mk_buf *e = &w->entry;
    e->len = 0;
    mk_buf_puts(e, "{\"log\":");
    append_json_string(e, data, len);
    mk_buf_printf(e, ",\"stream\":\"%s\",\"time\":\"", stream_names[stream]);
    append_time(e, realtime_ns());
    mk_buf_puts(e, "\"}\n");
    if (w->max_size > 0 && w->size > 0 && w->size + (int64_t)e->len > w->max_size &&
        rotate(w, err) < 0)
        return -1;
    /* One write per entry: a concurrent reader sees whole lines (or none). */
    if (mk_write_all(w->fd, e->data, e->len) < 0)
        return mk_err_sys(err, "write log %s", w->path);
    w->size += (int64_t)e->len;
    return 0;
}

int mk_log_writer_write(struct mk_log_writer *w, const char *stream, const char *data, size_t len,
                        mk_err **err)
{
    int s = stream_index(stream, err);
    if (s < 0)
        return -1;
    mk_buf *part = &w->partial[s];
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        if (nl == NULL) {
            mk_buf_append(part, data, len);
            break;
        }
        size_t n = (size_t)(nl - data) + 1;
        int r;
        if (part->len > 0) {
            mk_buf_append(part, data, n);
            r = write_entry(w, s, part->data, part->len, err);
            part->len = 0;
        } else {
            r = write_entry(w, s, data, n, err);
        }
        if (r < 0)
            return -1;
        data += n;
        len -= n;
    }
    /* A line longer than docker's buffer goes out in pieces without '\n'. */
    while (part->len >= LOG_LINE_MAX) {
        int r = write_entry(w, s, part->data, LOG_LINE_MAX, err);
        memmove(part->data, part->data + LOG_LINE_MAX, part->len - LOG_LINE_MAX);
        part->len -= LOG_LINE_MAX;
        if (r < 0)
            return -1;
    }
    return 0;
}

int mk_log_writer_flush(struct mk_log_writer *w, const char *stream, mk_err **err)
{
    int s = stream_index(stream, err);
    if (s < 0)
        return -1;
    mk_buf *part = &w->partial[s];
    if (part->len == 0)
        return 0;
    int r = write_entry(w, s, part->data, part->len, err);
    part->len = 0;
    return r;
}

void mk_log_writer_free(struct mk_log_writer *w)
{
    if (w == NULL)
        return;
    for (int i = 0; i < STREAM_COUNT; i++) {
        _cleanup_err_ mk_err *err = NULL;
        mk_log_writer_flush(w, stream_names[i], &err);
        mk_buf_free(&w->partial[i]);
    }
    mk_buf_free(&w->entry);
    if (w->fd >= 0)
        close(w->fd);
    free(w->path);
    free(w);
}

/* ---- reader ---- */

/* RFC 3339 with any fraction and Z or an offset, as docker and Go write it. */
static int parse_log_time(const char *s, int64_t *out)
{
    struct tm tm = {0};
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const char *p = s + n;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 9)
                frac = frac * 10 + (*p - '0');
        for (; digits < 9; digits++)
            frac *= 10;
    }
    int64_t offset = 0;
    if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
            return -1;
        offset = (int64_t)(hh * 3600 + mm * 60) * (*p == '-' ? -1 : 1);
    } else if (*p != 'Z') {
        return -1;
    }
    *out = ((int64_t)timegm(&tm) - offset) * 1000000000 + frac;
    return 0;
}

struct log_reader {
    const struct mk_log_read_opts *o;
    int (*fn)(void *ctx, const char *stream, int64_t time_ns, const char *data, size_t len);
    void *fn_ctx;
    bool stop; /* fn asked to stop, or an entry was past `until` */
};

/* One line without its '\n'.  A corrupt line (a write cut short by a full
 * disk) is skipped rather than ending the whole read. */
static void deliver_line(struct log_reader *r, const char *line, size_t len)
{
    json_error_t jerr;
    _cleanup_json_ json_t *j = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
    const json_t *log = json_object_get(j, "log");
    if (!json_is_string(log))
        return;
    const char *stream = mk_json_str(j, "stream");
    const char *time_s = mk_json_str(j, "time");
    int64_t t = 0;
    if (time_s == NULL || parse_log_time(time_s, &t) < 0)
        t = 0;
    if (r->o->since > 0 && t < r->o->since)
        return;
    if (r->o->until > 0 && t > r->o->until) {
        r->stop = true;
        return;
    }
    if (r->fn(r->fn_ctx, stream ? stream : "stdout", t, json_string_value(log),
              json_string_length(log)) < 0)
        r->stop = true;
}

/* Deliver the complete lines in buf; returns how many bytes they took. */
static size_t deliver_lines(struct log_reader *r, const char *buf, size_t len)
{
    size_t used = 0;
    while (!r->stop && used < len) {
        const char *nl = memchr(buf + used, '\n', len - used);
        if (nl == NULL)
            break;
        deliver_line(r, buf + used, (size_t)(nl - (buf + used)));
        used = (size_t)(nl - buf) + 1;
    }
    return used;
}

/* Deliver every complete line of fd from *pos on; *pos ends after the last
 * complete line, so a line still being written is read again next time. */
static int read_forward(struct log_reader *r, int fd, off_t *pos, mk_err **err)
{
    _cleanup_free_ char *buf = xmalloc(READ_CHUNK);
    mk_buf carry = {0}; /* a line longer than one chunk */
    int ret = 0;
    while (!r->stop) {
        ssize_t n = pread(fd, buf, READ_CHUNK, *pos + (off_t)carry.len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ret = mk_err_sys(err, "read log");
            break;
        }
        if (n == 0)
            break;
        size_t used = 0;
        if (carry.len > 0) {
            const char *nl = memchr(buf, '\n', (size_t)n);
            if (nl == NULL) {
                mk_buf_append(&carry, buf, (size_t)n);
                continue;
            }
            used = (size_t)(nl - buf) + 1;
            mk_buf_append(&carry, buf, used);
            deliver_line(r, carry.data, carry.len - 1);
            *pos += (off_t)carry.len;
            carry.len = 0;
        }
        size_t done = deliver_lines(r, buf + used, (size_t)n - used);
        *pos += (off_t)done;
        if (!r->stop)
            mk_buf_append(&carry, buf + used + done, (size_t)n - used - done);
    }
    mk_buf_free(&carry);
    return ret;
}

/* The last `want` complete lines of fd, read backwards in growing chunks.
 * *out holds them (*got of them); *complete_end is the offset after the last
 * complete line of the file. */
static int tail_file(int fd, int64_t want, mk_buf *out, int64_t *got, off_t *complete_end,
                     mk_err **err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return mk_err_sys(err, "stat log");
    off_t start = st.st_size;
    _cleanup_free_ char *data = NULL;
    size_t len = 0, chunk = READ_CHUNK;
    int64_t newlines = 0;
    while (start > 0 && newlines <= want) {
        size_t n = (size_t)start < chunk ? (size_t)start : chunk;
        char *grown = xmalloc(n + len + 1);
        if (len > 0)
            memcpy(grown + n, data, len);
        free(data);
        data = grown;
        size_t have = 0;
        while (have < n) {
            ssize_t r = pread(fd, data + have, n - have, start - (off_t)n + (off_t)have);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return mk_err_sys(err, "read log");
            if (r == 0)
                return mk_err_set(err, MK_ERR_INTERNAL, "read log: file shrank");
            have += (size_t)r;
        }
        for (size_t i = 0; i < n; i++)
            newlines += data[i] == '\n';
        len += n;
        start -= (off_t)n;
        if (chunk < TAIL_CHUNK_MAX)
            chunk *= 2;
    }
    /* Drop a trailing partial line, then keep the last `want` lines. */
    while (len > 0 && data[len - 1] != '\n')
        len--;
    *complete_end = start + (off_t)len;
    size_t from = 0;
    int64_t count = 0;
    for (size_t i = len; i > 0; i--) {
        if (data[i - 1] != '\n')
            continue;
        if (count == want) {
            from = i;
            break;
        }
        count++;
    }
    out->len = 0;
    mk_buf_append(out, data != NULL ? data + from : "", len - from);
    *got = count;
    return 0;
}

/* The log's files, oldest first: path.N ... path.1, path (if they exist). */
static char **log_files(const char *path)
{
    char **files = NULL;
    int n = 0;
    for (;;) {
        _cleanup_free_ char *p = xasprintf("%s.%d", path, n + 1);
        if (access(p, F_OK) < 0)
            break;
        n++;
    }
    for (int i = n; i >= 1; i--)
        mk_strv_push_owned(&files, xasprintf("%s.%d", path, i));
    mk_strv_push(&files, path);
    return files;
}

static int open_log_ro(const char *path, mk_err **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT)
        return mk_err_sys(err, "open log %s", path);
    return fd < 0 ? -2 : fd;
}

/* Keep reading path as it grows and rotates until still_running() says no. */
static int follow(struct log_reader *r, const char *path, int fd_in, off_t pos, mk_err **err)
{
    _cleanup_close_ int fd = fd_in;
    _cleanup_close_ int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ino < 0)
        return mk_err_sys(err, "inotify");
    _cleanup_free_ char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    else
        strcpy(dir, ".");
    /* A watch on the directory sees both writes to the file and its rotation. */
    if (inotify_add_watch(ino, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
        return mk_err_sys(err, "inotify watch %s", dir);
    for (;;) {
        bool running = r->o->still_running != NULL && r->o->still_running(r->o->ctx);
        struct stat st = {0}, now;
        if (fd >= 0) {
            if (fstat(fd, &st) < 0)
                return mk_err_sys(err, "stat log %s", path);
            if (st.st_size < pos)
                pos = 0; /* truncated under us */
            if (read_forward(r, fd, &pos, err) < 0)
                return -1;
        }
        if (r->stop)
            return 0;
        if (stat(path, &now) == 0 &&
            (fd < 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev)) {
            /* Rotated: finish the old file (now path.1), then start on the new one. */
            if (fd >= 0 && read_forward(r, fd, &pos, err) < 0)
                return -1;
            if (fd >= 0)
                close(fd);
            fd = open_log_ro(path, err);
            if (fd == -1)
                return -1;
            pos = 0;
            continue;
        }
        if (!running)
            return 0;
        struct pollfd pfd = {.fd = ino, .events = POLLIN};
        if (poll(&pfd, 1, FOLLOW_POLL_MS) < 0 && errno != EINTR)
            return mk_err_sys(err, "poll");
        char evbuf[4096];
        while (read(ino, evbuf, sizeof(evbuf)) > 0) {
        }
    }
}

int mk_log_read(const char *path, const struct mk_log_read_opts *opts,
                int (*fn)(void *ctx, const char *stream, int64_t time_ns, const char *data,
                          size_t len),
                void *fn_ctx, mk_err **err)
{
    struct log_reader r = {.o = opts, .fn = fn, .fn_ctx = fn_ctx};
    _cleanup_strv_ char **files = log_files(path);
    size_t nfiles = mk_strv_len(files);
    _cleanup_close_ int last_fd = -1; /* the current file, where follow continues */
    off_t last_pos = 0;

    if (opts->tail < 0) {
        for (size_t i = 0; i < nfiles && !r.stop; i++) {
            _cleanup_close_ int fd = open_log_ro(files[i], err);
            if (fd == -1)
                return -1;
            if (fd < 0)
                continue;
            off_t pos = 0;
            if (read_forward(&r, fd, &pos, err) < 0)
                return mk_err_wrap(err, "read log %s", files[i]);
            if (i == nfiles - 1) {
                last_fd = steal_fd(&fd);
                last_pos = pos;
            }
        }
    } else {
        /* Newest first until enough lines, then deliver oldest first. */
        mk_buf *chunks = xcalloc(nfiles, sizeof(*chunks));
        int64_t want = opts->tail;
        int ret = 0;
        for (size_t i = nfiles; i > 0; i--) {
            _cleanup_close_ int fd = open_log_ro(files[i - 1], err);
            if (fd == -1) {
                ret = -1;
                break;
            }
            if (fd < 0)
                continue;
            int64_t got = 0;
            off_t end = 0;
            /* With --tail 0 this still finds where follow starts. */
            if (tail_file(fd, want, &chunks[i - 1], &got, &end, err) < 0) {
                ret = mk_err_wrap(err, "read log %s", files[i - 1]);
                break;
            }
            if (i == nfiles) {
                last_fd = steal_fd(&fd);
                last_pos = end;
            }
            want -= got;
            if (want <= 0)
                break;
        }
        for (size_t i = 0; i < nfiles; i++) {
            if (ret == 0 && !r.stop && chunks[i].len > 0)
                deliver_lines(&r, chunks[i].data, chunks[i].len);
            mk_buf_free(&chunks[i]);
        }
        free(chunks);
        if (ret < 0)
            return -1;
    }
    if (!opts->follow || r.stop)
        return 0;
    return follow(&r, path, steal_fd(&last_fd), last_pos, err);
}
