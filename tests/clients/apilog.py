#!/usr/bin/env python3
"""apilog.py: a logging proxy between a Docker API client and an engine's
Unix socket, to see every endpoint a client calls and what it got back.

  apilog.py LISTEN.sock UPSTREAM.sock LOG

Bytes pass through unchanged both ways (hijacked attach/exec streams too);
each request line and each response status line is appended to LOG as
"<conn> > METHOD PATH" and "<conn> < STATUS".  A debugging aid (not used by
the tests): point DOCKER_HOST at LISTEN.sock.
"""

import os
import re
import socket
import sys
import threading

REQ = re.compile(rb"(?:^|\r\n)(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP/1\.[01]\r\n")
RESP = re.compile(rb"(?:^|\r\n)HTTP/1\.[01] (\d{3})")
lock = threading.Lock()


def pump(src, dst, conn, pattern, mark, log):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            with lock:
                for m in pattern.finditer(data):
                    log.write("%d %s %s\n" % (conn, mark, b" ".join(g for g in m.groups() if g).decode("latin-1")))
                log.flush()
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def main():
    listen, upstream, logpath = sys.argv[1:4]
    if os.path.exists(listen):
        os.unlink(listen)
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(listen)
    srv.listen(64)
    log = open(logpath, "a")
    n = 0
    while True:
        c, _ = srv.accept()
        n += 1
        u = socket.socket(socket.AF_UNIX)
        u.connect(upstream)
        threading.Thread(target=pump, args=(c, u, n, REQ, ">", log), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, n, RESP, "<", log), daemon=True).start()


if __name__ == "__main__":
    main()
