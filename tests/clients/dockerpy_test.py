#!/usr/bin/env python3
"""dockerpy_test.py: docker-py (7.1.0) against the engine DOCKER_HOST names,
as a user's script would drive it.  Every step checks what the engine did.

  DOCKER_HOST=unix:///path IMG=image [REG=127.0.0.1:PORT] dockerpy_test.py GROUP...

GROUP: containers | archive | exec | stats | images | registry | networks | volumes
(registry needs REG, a plain HTTP registry).  Works against dockerd as well as
mocker serve: t_clients.sh runs it against mocker serve, and the same script
pointed at a private dockerd is how we know the checks are docker's behaviour.
Names carry the pid, so two runs never collide; what a group makes it removes.
"""

import io
import os
import sys
import tarfile
import time

import docker
from docker.errors import APIError, ImageNotFound, NotFound

IMG = os.environ["IMG"]
TAG = "pyt%d" % os.getpid()
client = docker.from_env(timeout=60)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def step(what):
    print("# docker-py: " + what, flush=True)


def cleanup_container(name):
    try:
        client.containers.get(name).remove(force=True)
    except NotFound:
        pass


def group_containers():
    step("run (not detached) returns the output")
    out = client.containers.run(IMG, ["sh", "-c", "echo hi; echo err >&2"], remove=True)
    check(out == b"hi\n", "run output: %r" % out)
    out = client.containers.run(IMG, ["sh", "-c", "echo err >&2"], stdout=False, stderr=True, remove=True)
    check(out == b"err\n", "stderr only: %r" % out)

    step("run detach, list, get, attrs")
    name = TAG + "-c"
    script = "echo start; i=0; while [ $i -lt 3 ]; do echo tick$i; i=$((i+1)); sleep 0.2; done; sleep 60"
    c = client.containers.run(IMG, ["sh", "-c", script], detach=True, name=name, labels={"t": TAG})
    try:
        check(len(c.id) == 64, "id %r" % c.id)
        c.reload()
        check(c.status == "running", "status %r" % c.status)
        check(c.name == name, "name %r" % c.name)
        check(c.attrs["Config"]["Labels"]["t"] == TAG, "labels")
        check(c.attrs["State"]["Pid"] > 0, "pid")
        ids = [x.id for x in client.containers.list(filters={"label": "t=" + TAG})]
        check(ids == [c.id], "list by label: %r" % ids)
        check(client.containers.get(name).id == c.id, "get by name")

        step("logs stream (follow) sees the lines as they come")
        seen = b""
        for chunk in c.logs(stream=True, follow=True):
            seen += chunk
            if b"tick2\n" in seen:
                break
        check(seen == b"start\ntick0\ntick1\ntick2\n", "streamed logs: %r" % seen)
        check(c.logs(tail=1) == b"tick2\n", "tail=1: %r" % c.logs(tail=1))
        check(b"start" in c.logs(timestamps=True).split(b"\n")[0], "timestamps")

        step("stop, wait for its exit status")
        c.stop(timeout=1)
        res = c.wait(timeout=30)
        check(res["StatusCode"] in (137, 143), "wait after stop: %r" % res)
        c.reload()
        check(c.status == "exited", "status after stop %r" % c.status)
    finally:
        cleanup_container(name)

    step("wait returns the exit code; remove; get raises NotFound")
    c = client.containers.run(IMG, ["sh", "-c", "sleep 0.3; exit 7"], detach=True)
    res = c.wait(timeout=30)
    check(res["StatusCode"] == 7, "wait: %r" % res)
    c.remove()
    try:
        client.containers.get(c.id)
        check(False, "removed container still found")
    except NotFound:
        pass
    try:
        client.containers.run(IMG, "true", name=TAG + "-dup", detach=True)
        client.containers.run(IMG, "true", name=TAG + "-dup", detach=True)
        check(False, "a second container with the same name was created")
    except APIError as e:
        check(e.status_code == 409, "name conflict: %r" % e)
    finally:
        cleanup_container(TAG + "-dup")


def running(name):
    c = client.containers.run(IMG, ["sleep", "60"], detach=True, name=name)
    c.reload()
    check(c.status == "running", "status %r" % c.status)
    return c


def group_exec():
    name = TAG + "-x"
    c = running(name)
    try:
        step("exec_run: output and exit code")
        r = c.exec_run(["sh", "-c", "echo $((6*7)); exit 3"])
        check(r.exit_code == 3 and r.output == b"42\n", "exec_run: %r" % (r,))
        step("exec_run demux: stdout and stderr apart")
        r = c.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
        check(r.exit_code == 0 and r.output == (b"out\n", b"err\n"), "demux: %r" % (r,))
        step("exec_run with environment, user and workdir")
        r = c.exec_run(["sh", "-c", "echo $FOO $(id -u) $(pwd)"], environment={"FOO": "bar"}, user="1000", workdir="/tmp")
        check(r.output == b"bar 1000 /tmp\n", "env/user/workdir: %r" % (r.output,))
        step("exec_run stream")
        r = c.exec_run(["sh", "-c", "echo a; sleep 0.2; echo b"], stream=True)
        check(b"".join(r.output) == b"a\nb\n", "stream")
        step("exec_run tty")
        r = c.exec_run(["sh", "-c", "tty >/dev/null && echo isatty"], tty=True)
        check(r.output == b"isatty\r\n", "tty: %r" % (r.output,))
        step("exec_run detach runs in the background")
        c.exec_run(["sh", "-c", "echo bg > /tmp/bg"], detach=True)
        for _ in range(50):
            if c.exec_run(["cat", "/tmp/bg"]).output == b"bg\n":
                break
            time.sleep(0.1)
        else:
            check(False, "detached exec did not run")
    finally:
        cleanup_container(name)


def group_archive():
    name = TAG + "-a"
    c = running(name)
    try:
        step("put_archive a tar into the container")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tf:
            data = b"hello from docker-py\n"
            ti = tarfile.TarInfo("dir/hello.txt")
            ti.size = len(data)
            ti.mode = 0o640
            tf.addfile(ti, io.BytesIO(data))
        check(c.put_archive("/tmp", buf.getvalue()) is True, "put_archive")
        r = c.exec_run(["sh", "-c", "cat /tmp/dir/hello.txt; stat -c %a /tmp/dir/hello.txt"])
        check(r.output == b"hello from docker-py\n640\n", "file in the container: %r" % r.output)
        try:
            c.put_archive("/nosuch/dir", buf.getvalue())
            check(False, "put_archive into a missing directory succeeded")
        except NotFound:
            pass

        step("get_archive a file: a tar and its stat")
        stream, stat = c.get_archive("/tmp/dir/hello.txt")
        check(stat["name"] == "hello.txt" and stat["size"] == 21, "stat: %r" % stat)
        raw = b"".join(stream)
        with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
            names = tf.getnames()
            check(names == ["hello.txt"], "names: %r" % names)
            check(tf.extractfile("hello.txt").read() == b"hello from docker-py\n", "content")
        stream, stat = c.get_archive("/tmp/dir")
        check(stat["name"] == "dir" and stat["mode"] & 0x80000000, "dir stat: %r" % stat)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tf:
            check(sorted(tf.getnames()) == ["dir", "dir/hello.txt"], "dir tar: %r" % tf.getnames())
        try:
            c.get_archive("/nosuch")
            check(False, "get_archive of a missing path succeeded")
        except NotFound:
            pass
    finally:
        cleanup_container(name)


def group_stats():
    name = TAG + "-s"
    c = running(name)
    try:
        step("stats one-shot")
        s = c.stats(stream=False)
        check(s["memory_stats"]["usage"] > 0, "memory usage: %r" % s["memory_stats"])
        check(s["pids_stats"]["current"] >= 1, "pids: %r" % s.get("pids_stats"))
        check(s["cpu_stats"]["cpu_usage"]["total_usage"] > 0, "cpu: %r" % s["cpu_stats"])
        check(s["name"] == "/" + name and s["id"] == c.id, "name/id")
        step("stats stream: two samples")
        it = c.stats(stream=True, decode=True)
        a = next(it)
        b = next(it)
        check(b["precpu_stats"]["cpu_usage"]["total_usage"] == a["cpu_stats"]["cpu_usage"]["total_usage"], "precpu is the previous sample")
        it.close()
    finally:
        cleanup_container(name)


def group_images():
    step("get, tag, list, remove a tag")
    img = client.images.get(IMG)
    check(img.id.startswith("sha256:"), "id %r" % img.id)
    ref = "clients/" + TAG + ":v1"
    check(img.tag("clients/" + TAG, "v1") is True, "tag")
    check(ref in client.images.get(ref).tags, "tags %r" % client.images.get(ref).tags)
    check([i.id for i in client.images.list(name="clients/" + TAG)] == [img.id], "list by name")
    step("save and load")
    data = b"".join(client.images.get(ref).save(named=True))
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        check("manifest.json" in tf.getnames(), "save: no manifest.json in %r" % tf.getnames())
    client.images.remove(ref)
    try:
        client.images.get(ref)
        check(False, "removed tag still there")
    except ImageNotFound:
        pass
    loaded = client.images.load(data)
    check([i.id for i in loaded] == [img.id], "load: %r" % loaded)
    check(ref in client.images.get(ref).tags, "tag after load")
    client.images.remove(ref)
    check(client.images.get(IMG).id == img.id, "the original stays")


def group_registry():
    reg = os.environ["REG"]
    repo = reg + "/clients/" + TAG
    step("push to the local registry")
    img = client.images.get(IMG)
    img.tag(repo, "v1")
    digest = None
    for msg in client.images.push(repo, tag="v1", stream=True, decode=True):
        check("error" not in msg and "errorDetail" not in msg, "push: %r" % msg)
        if "aux" in msg:
            digest = msg["aux"]["Digest"]
    check(digest and digest.startswith("sha256:"), "push: no digest")
    client.images.remove(repo + ":v1")
    step("pull it back")
    pulled = client.images.pull(repo, tag="v1")
    check(pulled.id == img.id, "pulled %r, pushed %r" % (pulled.id, img.id))
    check(repo + ":v1" in pulled.tags, "tags %r" % pulled.tags)
    check(repo + "@" + digest in pulled.attrs["RepoDigests"], "repo digests %r" % pulled.attrs["RepoDigests"])
    out = client.containers.run(repo + ":v1", ["echo", "pulled"], remove=True)
    check(out == b"pulled\n", "run pulled: %r" % out)
    client.images.remove(repo + ":v1")
    try:
        client.images.pull(repo, tag="nosuch")
        check(False, "pull of a missing tag succeeded")
    except NotFound:
        pass


def group_networks():
    name = TAG + "-net"
    step("create, inspect, list a network")
    n = client.networks.create(name, driver="bridge", labels={"t": TAG})
    c = None
    try:
        check(n.attrs["Driver"] == "bridge" and n.attrs["Labels"] == {"t": TAG}, "attrs %r" % n.attrs)
        check(n.attrs["IPAM"]["Config"][0]["Subnet"], "subnet %r" % n.attrs["IPAM"])
        check([x.id for x in client.networks.list(names=[name])] == [n.id], "list by name")
        check(client.networks.get(name).id == n.id, "get by name")
        step("a container on it, connect and disconnect")
        out = client.containers.run(IMG, ["sh", "-c", "ip -o -4 addr show eth0 | wc -l"], network=name, remove=True)
        check(out == b"1\n", "eth0 on the network: %r" % out)
        c = running(TAG + "-n")
        n.connect(c)
        n.reload()
        check(c.id in [x.id for x in n.containers], "connected: %r" % n.containers)
        c.reload()
        check(name in c.attrs["NetworkSettings"]["Networks"], "container's networks")
        n.disconnect(c)
        n.reload()
        check(n.containers == [], "disconnected: %r" % n.containers)
    finally:
        if c is not None:
            cleanup_container(c.id)
        n.remove()
    try:
        client.networks.get(name)
        check(False, "removed network still there")
    except NotFound:
        pass


def group_volumes():
    name = TAG + "-vol"
    step("create, inspect, list a volume")
    v = client.volumes.create(name, labels={"t": TAG})
    try:
        check(v.attrs["Driver"] == "local" and v.attrs["Labels"] == {"t": TAG}, "attrs %r" % v.attrs)
        check(v.attrs["Mountpoint"].startswith("/"), "mountpoint %r" % v.attrs["Mountpoint"])
        check([x.name for x in client.volumes.list(filters={"label": "t=" + TAG})] == [name], "list by label")
        step("data written by one container is read by the next")
        vols = {name: {"bind": "/v", "mode": "rw"}}
        client.containers.run(IMG, ["sh", "-c", "echo data > /v/f"], volumes=vols, remove=True)
        out = client.containers.run(IMG, ["cat", "/v/f"], volumes={name: {"bind": "/v", "mode": "ro"}}, remove=True)
        check(out == b"data\n", "volume content: %r" % out)
        c = client.containers.create(IMG, ["true"], volumes=vols)
        try:
            v.remove()
            check(False, "a volume in use was removed")
        except APIError as e:
            check(e.status_code == 409, "in use: %r" % e)
        finally:
            c.remove()
    finally:
        try:
            v.remove()
        except NotFound:
            pass
    try:
        client.volumes.get(name)
        check(False, "removed volume still there")
    except NotFound:
        pass
    step("prune removes an unused volume")
    client.volumes.create(TAG + "-prune")
    res = client.volumes.prune(filters={"all": "true"} if api_version() >= (1, 42) else None)
    check(TAG + "-prune" in (res["VolumesDeleted"] or []), "prune: %r" % res)


def api_version():
    return tuple(int(x) for x in client.api.api_version.split("."))


GROUPS = {
    "containers": group_containers,
    "exec": group_exec,
    "archive": group_archive,
    "stats": group_stats,
    "images": group_images,
    "registry": group_registry,
    "networks": group_networks,
    "volumes": group_volumes,
}

if __name__ == "__main__":
    names = sys.argv[1:] or list(GROUPS)
    for g in names:
        GROUPS[g]()
        print("# docker-py: %s passed" % g, flush=True)
