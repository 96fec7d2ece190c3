// testcontainers.test.js: testcontainers (npm) against the engine DOCKER_HOST
// names, as a test suite's setup would use it.  A plain node script (no test
// runner): it exits non-zero with the reason on the first failed check.
//
//   DOCKER_HOST=unix:///path IMG=image TESTCONTAINERS_RYUK_DISABLED=true \
//     NODE_PATH=/var/cache/mocker-test/node/node_modules node testcontainers.test.js
//
// IMG is a local busybox image (the engine must have it: nothing is pulled).
// Works against dockerd as well as mocker serve.
"use strict";
const assert = require("node:assert/strict");
const http = require("node:http");
const { GenericContainer, Wait } = require("testcontainers");
const Docker = require("dockerode");

const IMG = process.env.IMG;
const step = (what) => console.log("# testcontainers: " + what);

function get(url) {
    return new Promise((resolve, reject) => {
        http.get(url, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode, body }));
        }).on("error", reject);
    });
}

async function main() {
    assert.ok(IMG, "IMG: a local busybox image");
    assert.equal(process.env.TESTCONTAINERS_RYUK_DISABLED, "true");
    step("start a container from a local image, wait for a log line and a listening port");
    const container = await new GenericContainer(IMG)
        .withCommand(["sh", "-c", "mkdir -p /www; echo served > /www/index.html; echo server-starting; exec httpd -f -p 8080 -h /www"])
        .withExposedPorts(8080)
        .withLabels({ "mocker.test": "testcontainers" })
        .withWaitStrategy(Wait.forAll([Wait.forLogMessage("server-starting"), Wait.forListeningPorts()]))
        .withStartupTimeout(30000)
        .start();
    const id = container.getId();
    try {
        const port = container.getMappedPort(8080);
        assert.ok(port > 0, "mapped port " + port);
        let r = await get(`http://${container.getHost()}:${port}/index.html`);
        assert.deepEqual(r, { status: 200, body: "served\n" }, "GET through the mapped port");

        step("copy a file in, exec");
        await container.copyContentToContainer([{ content: "copied in\n", target: "/www/copied.txt", mode: 0o644 }]);
        let e = await container.exec(["cat", "/www/copied.txt"]);
        assert.deepEqual([e.exitCode, e.output], [0, "copied in\n"], "exec cat");
        e = await container.exec(["sh", "-c", "echo to-err >&2; exit 4"]);
        assert.equal(e.exitCode, 4, "exec exit code");
        assert.ok(e.output.includes("to-err"), "exec output: " + e.output);
        r = await get(`http://${container.getHost()}:${port}/copied.txt`);
        assert.deepEqual(r, { status: 200, body: "copied in\n" }, "the copied file is served");

        step("logs");
        // testcontainers unrefs the log socket: the timer keeps node alive
        // until the line comes (and fails the test if it never does).
        const logs = await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error("no log line within 10 s")), 10000);
            const done = (f, v) => {
                clearTimeout(timer);
                f(v);
            };
            container.logs().then((s) => {
                let out = "";
                s.on("data", (d) => {
                    out += d;
                    if (out.includes("server-starting")) {
                        s.destroy();
                        done(resolve, out);
                    }
                })
                    .on("error", (e) => done(reject, e))
                    .on("end", () => done(reject, new Error("the log stream ended without the line: " + JSON.stringify(out))));
            }, (e) => done(reject, e));
        });
        assert.ok(logs.includes("server-starting"), "logs: " + logs);
    } finally {
        step("stop (and remove)");
        await container.stop({ timeout: 1 });
    }
    const docker = new Docker();
    await assert.rejects(docker.getContainer(id).inspect(), (err) => err.statusCode === 404, "removed after stop");
    step("passed");
    passed = true;
}

// node exits 0 when nothing is left to wait for, even with main() unfinished
// (a stream that never delivers): only a main() that got to the end passes.
let passed = false;
process.on("exit", (code) => {
    if (code === 0 && !passed) {
        console.error("testcontainers: FAIL: exited before the end (a promise never settled)");
        process.exitCode = 1;
    }
});

main().catch((err) => {
    console.error("testcontainers: FAIL:", err && err.stack ? err.stack : err);
    process.exit(1);
});
