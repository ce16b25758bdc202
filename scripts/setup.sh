#!/bin/sh
# Install the workspace with the pinned pnpm (fetched by npx, so only Node and npm are needed)
# and build every package. Safe to run repeatedly: pnpm and tsc -b skip what is up to date.
set -e
cd "$(dirname "$0")/.."
PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
npx --yes "pnpm@$PNPM_VERSION" install --frozen-lockfile --reporter=silent
node_modules/.bin/tsc -b
