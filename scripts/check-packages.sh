#!/usr/bin/env bash
# npm run check:packages — the packages as an npm user gets them. Packs every package with pnpm
# (which rewrites workspace: ranges), checks the tarballs (no workspace: left, publint, are the
# types wrong, the README as the registry shows it: it opens with a Quick start, its links are
# absolute and those into the repository exist), and installs them outside the workspace with plain `npm install` (no
# --legacy-peer-deps or --force: the flags used only quiet the output): each package alone with the
# @nori peers it requires, then all of them together in one project, where it runs what a user
# runs: an ESM program over redis:// and amqp://, codecs loaded by name, a CommonJS require(), tsc on
# a TypeScript consumer as ESM (node16), CommonJS (node16 resolution) and for bundlers, a tasks app
# run by the installed `nori worker` bin serving a task sent from CommonJS, `nori flower` answering,
# @nori/opentelemetry recording spans, and every package README's Quick start.
# Ends with `pnpm publish -r --dry-run`.
# Needs Redis and RabbitMQ (REDIS_URL, AMQP_URL when set, else those of `npm test` on 127.0.0.1)
# and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/node_modules/.bin
PNPM="npx --yes pnpm@$(node -p "require('./package.json').packageManager.split('@')[1]")"
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
AMQP_URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672//}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nori-check-packages.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
TARBALLS=$WORK/tarballs
APP=$WORK/app
NPM_INSTALL=(npm install --no-audit --no-fund --loglevel=error)
step() { printf '\n== %s (at %ds)\n' "$*" "$SECONDS"; }
fail() { printf 'check:packages FAILED: %s\n' "$*" >&2; exit 1; }
# Waits up to 30 s for a line matching $2 in the log file $1.
wait_for_log() {
  for _ in $(seq 60); do grep -q "$2" "$1" && return 0; sleep 0.5; done
  cat "$1"
  return 1
}

step "build and pack every package"
"$BIN/tsc" -b
mkdir -p "$TARBALLS"
# One pnpm for all of them (an npx start per package took two minutes).
$PNPM -r pack --pack-destination "$TARBALLS" >/dev/null
ls "$TARBALLS"
[ "$(ls "$TARBALLS" | wc -l)" = "$(ls -d packages/*/ | wc -l)" ] || fail "pnpm -r pack: not one tarball per package"

step "tarballs: no workspace: ranges, publint, are the types wrong"
for tarball in "$TARBALLS"/*.tgz; do
  manifest=$(tar -xzOf "$tarball" package/package.json)
  if grep -n 'workspace:' <<<"$manifest"; then fail "$(basename "$tarball") still has workspace: ranges"; fi
  for file in package/LICENSE package/README.md; do
    tar -tzf "$tarball" "$file" >/dev/null 2>&1 || fail "$(basename "$tarball") has no ${file#package/}"
  done
  "$BIN/publint" run "$tarball" --strict
  # attw bundles TypeScript 5.6, which predates require(esm): with engines >=20.19 a require() of
  # these ESM packages works (checked below by running one), so that one rule is not a problem here.
  # The node16 profile leaves out TypeScript's legacy node10 resolution, which reads no `exports`
  # and so cannot see subpaths such as @nori/core/spi; the consumers checked below use node16,
  # node20 and bundler resolution.
  "$BIN/attw" "$tarball" --profile node16 --ignore-rules cjs-resolves-to-esm --format ascii --no-emoji
  # The package's page on the registry: its README and links, its manifest's repository.
  node scripts/check-packages/readme.mjs check "$tarball" "$ROOT"
done
tgz() { ls "$TARBALLS"/nori-"$1"-*.tgz; }
PACKAGES=$(cd packages && ls -d */ | tr -d /)

step "each package alone: npm install it and the @nori peers it requires in a fresh project, import every entry point"
for pkg in $PACKAGES; do
  dir=$WORK/alone/$pkg
  mkdir -p "$dir"
  cp scripts/check-packages/load.mjs scripts/check-packages/codecs.mjs "$dir"/
  mapfile -t tarballs < <(node scripts/check-packages/required-peers.mjs "$TARBALLS" "$pkg")
  printf '{ "name": "nori-alone-%s", "version": "1.0.0", "private": true }\n' "$pkg" > "$dir/package.json"
  (cd "$dir" && "${NPM_INSTALL[@]}" "${tarballs[@]}") || fail "npm install @nori/$pkg ($(printf '%s ' "${tarballs[@]##*/}"))"
  (cd "$dir" && npm ls --all >/dev/null) || fail "npm ls after installing @nori/$pkg alone"
  (cd "$dir" && node load.mjs "@nori/$pkg") || fail "importing @nori/$pkg installed alone"
done
(cd "$WORK/alone/core" && node codecs.mjs missing)
(cd "$WORK/alone/cli" && node_modules/.bin/nori --help >/dev/null && echo "ok: nori --help, the bin of @nori/cli installed alone")

step "every package together: one npm install of all of them"
mkdir -p "$APP"
cp scripts/check-packages/* "$APP"/
cd "$APP"
printf '{ "name": "nori-consumer-check", "version": "1.0.0", "private": true }\n' > package.json
mapfile -t tarballs < <(for pkg in $PACKAGES; do tgz "$pkg"; done)
"${NPM_INSTALL[@]}" "${tarballs[@]}" @types/node@20 @opentelemetry/sdk-trace-base@2 || fail "npm install of every package together"
npm ls --all >/dev/null || fail "npm ls after installing every package"

step "ESM program over redis:// and amqp://"
node roundtrip.mjs "$REDIS_URL"
node roundtrip.mjs "$AMQP_URL"
step "codecs by name: @nori/msgpack installed and never imported"
node codecs.mjs installed
step "CommonJS require()"
node require.cjs "$REDIS_URL"
step "TypeScript consumers: node16 (ESM), node16 resolution from CommonJS (module node20), bundler"
for mode in esm:mts cjs:cts bundler:ts; do
  cp consumer.ts "consumer.${mode%%:*}.${mode##*:}"
  "$BIN/tsc" -p "tsconfig.${mode%%:*}.json"
  echo "ok: tsc ${mode%%:*}"
done

step "a tasks app run by the installed nori bin: a task sent from CommonJS, nori flower answering"
id=$(node -p "require('node:crypto').randomUUID().slice(0, 8)")
export NORI_CHECK_BROKER=$REDIS_URL NORI_CHECK_QUEUE=check-packages-$id
export NORI_CHECK_CONTROL_EXCHANGE=check-packages-$id NORI_CHECK_EVENT_EXCHANGE=check-packages-$id.ev
node_modules/.bin/nori worker -A ./tasks-app.mjs -n "check@$id" -c 2 -l info 2>"$WORK/worker.log" &
WORKER_PID=$!
PIDS+=("$WORKER_PID")
wait_for_log "$WORK/worker.log" "check@$id ready" || fail "nori worker did not get ready"
node send-task.cjs || { cat "$WORK/worker.log"; fail "a task sent from CommonJS"; }
# A password of this run only, never printed.
NORI_CHECK_FLOWER_AUTH=check:$(node -p "require('node:crypto').randomBytes(12).toString('hex')")
node_modules/.bin/nori flower -A ./tasks-app.mjs --port 0 --basic-auth "$NORI_CHECK_FLOWER_AUTH" 2>"$WORK/flower.log" &
FLOWER_PID=$!
PIDS+=("$FLOWER_PID")
wait_for_log "$WORK/flower.log" "nori flower on http" || fail "nori flower did not start"
NORI_CHECK_FLOWER_AUTH=$NORI_CHECK_FLOWER_AUTH node flower.mjs "$(grep -o 'http://[^ ]*' "$WORK/flower.log")" "check@$id" || fail "nori flower"
kill -TERM "$FLOWER_PID" "$WORKER_PID"
wait "$FLOWER_PID" || fail "nori flower exited with $? on SIGTERM"
wait "$WORKER_PID" || fail "nori worker exited with $? on SIGTERM"
grep -q "worker stopped" "$WORK/worker.log" || fail "nori worker did not log its stop"
echo "ok: nori worker and nori flower stopped on SIGTERM"
node cleanup.mjs "$NORI_CHECK_BROKER" "$NORI_CHECK_QUEUE" "$NORI_CHECK_CONTROL_EXCHANGE" "$NORI_CHECK_EVENT_EXCHANGE"

step "@nori/opentelemetry records spans"
node tracing.mjs

step "every package README's Quick start, run as written (the README npm installed)"
# The MongoDB quick start talks to CongoDB, the embedded server the workspace's tests use.
(cd "$ROOT" && exec node --conditions=nori-src --import tsx --input-type=module -e "
  import { startServer, mongoUrl } from './packages/mongodb/test/server.ts';
  await startServer(); console.log(mongoUrl); setInterval(() => {}, 1 << 30);") >"$WORK/mongo.url" 2>&1 &
PIDS+=($!)
wait_for_log "$WORK/mongo.url" '^mongodb://' || fail "the embedded MongoDB did not start"
for pkg in $PACKAGES; do
  REDIS_URL=$REDIS_URL AMQP_URL=$AMQP_URL MONGODB_URL=$(grep '^mongodb://' "$WORK/mongo.url") TSC=$BIN/tsc NO_COLOR=1 \
    node readme.mjs quickstart "node_modules/@nori/$pkg/README.md"
done
# The cli's quick start runs a worker with Celery's names.
node cleanup.mjs "$REDIS_URL" celery celery celeryev

step "release dry run: pnpm publish -r"
cd "$ROOT"
$PNPM publish -r --dry-run --no-git-checks >"$WORK/publish.log" 2>&1 || { cat "$WORK/publish.log"; fail "pnpm publish -r --dry-run"; }
echo "ok: pnpm publish -r --dry-run ($(grep -c 'Tarball Details' "$WORK/publish.log") packages)"
echo "check:packages: all packages install and run as published"
