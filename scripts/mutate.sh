#!/bin/sh
# `npm run mutate`: StrykerJS over core and redis (stryker.config.mjs). Mutants break delivery on
# purpose (a sweep that restores everything, an ack that deletes nothing), so the tests run against
# a private redis-server, never the shared one on 6379; vitest.mutate.config.ts points them there.
# Extra arguments go to `stryker run`, e.g. `npm run mutate -- --mutate packages/redis/src/keys.ts`.
set -e
cd "$(dirname "$0")/.."
sh scripts/setup.sh
sh scripts/services.sh
PORT=${NORI_MUTATE_REDIS_PORT:-6391}
DIR=$(mktemp -d)
redis-server --daemonize yes --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no --dir "$DIR" --logfile "$DIR/redis.log"
trap 'redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1; rm -rf "$DIR"' EXIT
trap 'exit 1' INT TERM
until redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.2; done
NORI_MUTATE_REDIS_PORT=$PORT node_modules/.bin/stryker run "$@"
