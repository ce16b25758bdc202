#!/bin/sh
# `npm run mutate`: StrykerJS over core, redis, the task layer and the dashboard
# (stryker.config.mjs). Mutants break delivery on purpose (a sweep that restores everything, an ack
# that deletes nothing), so the tests run against a private redis-server, never the shared one on
# 6379, and a RabbitMQ virtual host of their own: REDIS_URL and AMQP_URL are set for them
# (vitest.mutate.config.ts also points literal 6379s at the private port). AMQP_URL, when set,
# must name a private vhost; unset, a vhost `nori-mutate-<port>` is made here and deleted after.
# Extra arguments go to `stryker run`, e.g. `npm run mutate -- --mutate packages/redis/src/keys.ts`.
set -e
cd "$(dirname "$0")/.."
sh scripts/setup.sh
sh scripts/services.sh
PORT=${NORI_MUTATE_REDIS_PORT:-6391}
DIR=$(mktemp -d)
VHOST=
if [ -z "$AMQP_URL" ]; then
  VHOST=nori-mutate-$PORT
  rabbitmqctl -q add_vhost "$VHOST" >/dev/null 2>&1 || true
  rabbitmqctl -q set_permissions -p "$VHOST" guest '.*' '.*' '.*' >/dev/null
  AMQP_URL=amqp://guest:guest@127.0.0.1:5672/$VHOST
fi
redis-server --daemonize yes --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no --dir "$DIR" --logfile "$DIR/redis.log"
trap 'redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1; rm -rf "$DIR"; [ -z "$VHOST" ] || rabbitmqctl -q delete_vhost "$VHOST" >/dev/null 2>&1' EXIT
trap 'exit 1' INT TERM
until redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.2; done
NORI_MUTATE_REDIS_PORT=$PORT REDIS_URL=redis://127.0.0.1:$PORT AMQP_URL=$AMQP_URL node_modules/.bin/stryker run "$@"
