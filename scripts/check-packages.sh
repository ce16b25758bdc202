#!/usr/bin/env bash
# npm run check:packages — the packages as an npm user gets them. Packs every package with pnpm
# (which rewrites workspace: ranges), checks the tarballs (no workspace: left, publint, are the
# types wrong), installs them with plain npm into a project outside the workspace, and runs what a
# user runs there: an ESM program over redis://, the same program over amqp:// after installing
# @nori/amqp, codecs loaded by name, a CommonJS require(), and tsc on a TypeScript consumer as ESM
# (node16), CommonJS (node16 resolution) and for bundlers, and every package README's example.
# Ends with `pnpm publish -r --dry-run`.
# Needs the brokers of `npm test` (scripts/services.sh) and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/node_modules/.bin
PNPM="npx --yes pnpm@$(node -p "require('./package.json').packageManager.split('@')[1]")"
REDIS_URL=${NORI_CHECK_REDIS_URL:-redis://127.0.0.1:6379/0}
AMQP_URL=${NORI_CHECK_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672//}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nori-check-packages.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
TARBALLS=$WORK/tarballs
APP=$WORK/app
step() { printf '\n== %s\n' "$*"; }
fail() { printf 'check:packages FAILED: %s\n' "$*" >&2; exit 1; }

step "build and pack every package"
"$BIN/tsc" -b
mkdir -p "$TARBALLS"
for dir in packages/*/; do
  (cd "$dir" && $PNPM pack --pack-destination "$TARBALLS" >/dev/null)
done
ls "$TARBALLS"

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
done
tgz() { ls "$TARBALLS"/nori-"$1"-*.tgz; }

step "a project outside the workspace: npm install @nori/core @nori/redis"
mkdir -p "$APP"
cp scripts/check-packages/* "$APP"/
cd "$APP"
printf '{ "name": "nori-consumer-check", "version": "1.0.0", "private": true }\n' > package.json
npm install --no-audit --no-fund --loglevel=error "$(tgz core)" "$(tgz redis)" @types/node@20

step "ESM program over redis://"
node roundtrip.mjs "$REDIS_URL"
step "codecs by name: msgpack not installed is an error naming the install"
node codecs.mjs missing
step "CommonJS require()"
node require.cjs "$REDIS_URL"
step "TypeScript consumers: node16 (ESM), node16 resolution from CommonJS (module node20), bundler"
for mode in esm:mts cjs:cts bundler:ts; do
  cp consumer.ts "consumer.${mode%%:*}.${mode##*:}"
  "$BIN/tsc" -p "tsconfig.${mode%%:*}.json"
  echo "ok: tsc ${mode%%:*}"
done

step "npm install @nori/amqp @nori/msgpack; the same program over amqp://"
npm install --no-audit --no-fund --loglevel=error "$(tgz amqp)" "$(tgz msgpack)"
node roundtrip.mjs "$AMQP_URL"
node codecs.mjs installed

step "every package README's example, run as written"
npm install --no-audit --no-fund --loglevel=error "$(tgz mongodb)" "$(tgz yaml)" "$(tgz compression)" "$(tgz testing)" vitest@4
# The MongoDB example talks to CongoDB, the embedded server the workspace's tests use.
(cd "$ROOT" && exec node --conditions=nori-src --import tsx --input-type=module -e "
  import { startServer, mongoUrl } from './packages/mongodb/test/server.ts';
  await startServer(); console.log(mongoUrl); setInterval(() => {}, 1 << 30);") >"$WORK/mongo.url" 2>&1 &
MONGO_PID=$!
trap 'kill "$MONGO_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 60); do grep -q '^mongodb://' "$WORK/mongo.url" && break; sleep 0.5; done
readme_example() { awk '/^## Example/ { on = 1 } on && /^```js$/ { code = 1; next } code && /^```$/ { exit } code' "$ROOT/packages/$1/README.md"; }
for pkg in core redis amqp mongodb msgpack yaml compression; do
  readme_example "$pkg" > "example-$pkg.mjs"
  [ -s "example-$pkg.mjs" ] || fail "packages/$pkg/README.md has no js example under '## Example'"
  REDIS_URL=$REDIS_URL AMQP_URL=$AMQP_URL MONGODB_URL=$(grep '^mongodb://' "$WORK/mongo.url") node "example-$pkg.mjs" >"$WORK/example.log" 2>&1 \
    || { cat "$WORK/example.log"; fail "the README example of @nori/$pkg"; }
  echo "ok: @nori/$pkg README example: $(head -c 160 "$WORK/example.log" | tr '\n' ' ')"
done
readme_example testing > example-testing.test.mjs
NO_COLOR=1 npx vitest run example-testing.test.mjs >"$WORK/example.log" 2>&1 || { cat "$WORK/example.log"; fail "the README example of @nori/testing"; }
echo "ok: @nori/testing README example: $(grep -E 'Tests +[0-9]' "$WORK/example.log" | tr -s ' ')"

step "release dry run: pnpm publish -r"
cd "$ROOT"
$PNPM publish -r --dry-run --no-git-checks >"$WORK/publish.log" 2>&1 || { cat "$WORK/publish.log"; fail "pnpm publish -r --dry-run"; }
echo "ok: pnpm publish -r --dry-run ($(grep -c 'Tarball Details' "$WORK/publish.log") packages)"
echo "check:packages: all packages install and run as published"
