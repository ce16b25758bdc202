#!/bin/sh
# Bring up the brokers the tests talk to (Redis and RabbitMQ on 127.0.0.1) and the Python peers
# used by the interop tests. Installs Debian packages when missing (root only), starts stopped
# services, and waits until each answers. A broker that cannot be brought up is an error.
set -e
REDIS_PORT=${REDIS_PORT:-6379}
AMQP_PORT=${AMQP_PORT:-5672}

as_root() { [ "$(id -u)" = 0 ]; }
apt_updated=
apt_install() {
  as_root || { echo "services: missing $*; install it (needs root): apt-get install $*" >&2; return 1; }
  [ -n "$apt_updated" ] || { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
wait_for() { # name, command
  i=0
  until sh -c "$2" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -le 120 ] || { echo "services: $1 did not come up" >&2; return 1; }
    sleep 0.5
  done
}

command -v redis-server >/dev/null || apt_install redis-server
if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
wait_for redis "redis-cli -h 127.0.0.1 -p $REDIS_PORT ping | grep -q PONG"

command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
if ! rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
  rabbitmq-server -detached
fi
wait_for rabbitmq "rabbitmq-diagnostics -q check_port_connectivity"

# Python peers for the interop tests live in Debian's interpreter, not whichever python3 is first on PATH.
if ! /usr/bin/python3 -c 'import kombu, celery, msgpack, yaml' >/dev/null 2>&1; then
  apt_install python3 python3-kombu python3-celery python3-msgpack python3-yaml python3-redis python3-amqp
fi
# Celery's MongoDB result backend (the mongodb interop peer) needs pymongo.
/usr/bin/python3 -c 'import pymongo' >/dev/null 2>&1 || apt_install python3-pymongo
/usr/bin/python3 -c 'import brotli' >/dev/null 2>&1 || apt_install python3-brotli || true
/usr/bin/python3 -c 'import zstandard' >/dev/null 2>&1 || apt_install python3-zstandard || true
# Celery's auth serializer (signed messages) needs cryptography: the @nori/security interop peer.
/usr/bin/python3 -c 'import cryptography' >/dev/null 2>&1 || apt_install python3-cryptography
# Test tools: bzip2 makes the bzip2 vectors, openssl the certificates of the TLS Redis and signed-message tests.
command -v bzip2 >/dev/null || apt_install bzip2
command -v openssl >/dev/null || apt_install openssl
# Headless browser for the dashboard test (@nori/cli), driven by playwright-core.
command -v chromium >/dev/null || apt_install chromium
echo "services: redis on $REDIS_PORT, rabbitmq on $AMQP_PORT, python kombu $(/usr/bin/python3 -c 'import kombu; print(kombu.__version__)')"
