# t_clients.sh: issue 6's acceptance, as a new user would try it: the real
# docker CLI, docker-py, docker-compose 1.29 and testcontainers (npm) pointed
# at mocker serve with DOCKER_HOST.  The client scripts live in tests/clients/
# and pass against dockerd too (that is how their checks are known right).
source "$REPO/tests/integration/serve_lib.sh"
source "$REPO/tests/integration/registry_lib.sh"

CLIENTS=$REPO/tests/clients
NODE_MODULES=/var/cache/mocker-test/node/node_modules

