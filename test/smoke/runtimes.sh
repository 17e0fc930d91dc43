#!/usr/bin/env bash
# The seed flow (test/smoke/seed-flow.mjs) against the server on the other runtimes the README supports:
# Node 24 LTS and Bun, both from the npm registry (the packages node@24 and bun), in memory and, when
# REDIS_URL is set, on Redis too. The driver itself runs on the Node that runs this script. `.ci/run` calls it.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
smoke="$repo/test/smoke/seed-flow.mjs"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Quiet when it works, the whole log when it does not.
quietly() {
  "$@" >"$work/log" 2>&1 || { cat "$work/log"; echo "failed: $*"; return 1; }
}

quietly npm install --prefix "$work/tools" --no-save --no-package-lock --no-audit --no-fund node@24 bun@1
node24="$work/tools/node_modules/.bin/node"
bun="$work/tools/node_modules/.bin/bun"
echo "runtimes: node $("$node24" --version), bun $("$bun" --version)"

# Each storage this machine offers: memory always, Redis when REDIS_URL names one.
each_storage() {
  env -u REDIS_URL node "$smoke" "$@"
  if [ -n "${REDIS_URL:-}" ]; then node "$smoke" "$@"; fi
}

# Node 24 starts the server as `npm start` does (tsx), from this tree's node_modules: argon2's binary is
# N-API, so what npm installed under the CI's Node serves Node 24 as well.
each_storage "$node24" --import tsx src/server.ts

# Bun as its users start it: `bun install`, then `bun run src/server.ts` (Bun runs the TypeScript itself; tsx is
# not involved). It installs into a copy of the tree's files (tracked and new, not ignored ones), so its
# bun.lock and node_modules never mix with this tree's.
mkdir "$work/tree"
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' file; do if [ -e "$file" ]; then printf '%s\0' "$file"; fi; done \
  | tar --null -T - -cf - | tar -xf - -C "$work/tree"
cd "$work/tree"
quietly "$bun" install
each_storage "$bun" run src/server.ts
