#!/usr/bin/env bash
# run.sh: docker-compose 1.29 brings tests/clients/compose up against the
# engine DOCKER_HOST names, checks ps, logs and the published port, and takes
# it down with its volume.  IMG: a local busybox image to tag under the
# compose file's names.  Works against dockerd as well as mocker serve.
set -euo pipefail
cd "$(dirname "$0")"
: "${IMG:?IMG: a local busybox image}"
export COMPOSE_PROJECT_NAME=mkc$$
WEB_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export WEB_PORT
dc() { timeout -s KILL 60 docker-compose --ansi never "$@"; }
fail() { echo "compose: FAIL: $*" >&2; exit 1; }
trap 'dc down -v >/dev/null 2>&1 || true' EXIT

docker tag "$IMG" mocker-clients/httpd:compose
docker tag "$IMG" mocker-clients/writer:compose

echo "# compose: up -d"
dc up -d
echo "# compose: ps"
ps=$(dc ps)
echo "$ps"
for svc in web writer; do
    grep -E "^${COMPOSE_PROJECT_NAME}_${svc}_1 .* Up" <<<"$ps" >/dev/null || fail "ps: $svc is not Up"
done
grep -F "127.0.0.1:$WEB_PORT->8080/tcp" <<<"$ps" >/dev/null || fail "ps: no published port 127.0.0.1:$WEB_PORT"
[ "$(dc ps -q | wc -l)" = 2 ] || fail "ps -q: not two containers"

echo "# compose: the published port serves what the other service wrote in the shared volume"
body=
for _ in $(seq 50); do
    body=$(curl -sf --max-time 2 "http://127.0.0.1:$WEB_PORT/index.html" || true)
    [ "$body" = hello-from-compose ] && break
    sleep 0.1
done
[ "$body" = hello-from-compose ] || fail "curl 127.0.0.1:$WEB_PORT: [$body]"

echo "# compose: logs"
logs=$(dc logs --no-color)
echo "$logs"
grep -E '^writer_1 +\| writer wrote index.html$' <<<"$logs" >/dev/null || fail "logs: no writer line"
grep -E '^web_1 +\| .*: response:200$' <<<"$logs" >/dev/null || fail "logs: httpd did not log the request"

vol=${COMPOSE_PROJECT_NAME}_www
docker volume inspect "$vol" >/dev/null || fail "no volume $vol"
net=${COMPOSE_PROJECT_NAME}_default
docker network inspect "$net" >/dev/null || fail "no network $net"

echo "# compose: down -v"
dc down -v
[ -z "$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")" ] || fail "containers left after down"
docker volume inspect "$vol" >/dev/null 2>&1 && fail "volume $vol left after down -v"
docker network inspect "$net" >/dev/null 2>&1 && fail "network $net left after down"
docker rmi mocker-clients/httpd:compose mocker-clients/writer:compose >/dev/null
trap - EXIT
echo "# compose: passed"
