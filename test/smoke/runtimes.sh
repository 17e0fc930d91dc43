#!/usr/bin/env bash
# The seed flow (test/smoke/seed-flow.mjs), and the SSRF guard's refusals (test/smoke/outbound-guard.mjs: Bun lacks
# what oidc-provider's own guard needs), against the server on the other runtimes the README supports, all from
# the npm registry (the packages node and bun): the oldest Node and Bun that package.json's "engines" admits, Node
# 24 LTS, and the newest Bun; in memory and, when REDIS_URL is set, on Redis too; on Node, the compiled server
# (dist/) as well. The driver itself runs on the Node that runs this script. `.ci/run` calls it after the build.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
smoke="$repo/test/smoke/seed-flow.mjs"
guard="$repo/test/smoke/outbound-guard.mjs"

# Exact versions: a new release changes what is tested only when someone bumps it here. The oldest ones are read
# from "engines", so what it promises is what runs (Bun 1.3.8 and older cannot start oidc-provider: its check
# of ttl functions expects Function.toString() on one line).
NODE_LTS=24.21.0
BUN_NEWEST=1.4.5
floor() {
  node -p "require('./package.json').engines.$1.match(/^>=(\d+\.\d+\.\d+)$/)?.[1] ?? ''"
}
node_floor=$(floor node)
bun_floor=$(floor bun)
if [ -z "$node_floor" ] || [ -z "$bun_floor" ]; then
  echo 'package.json "engines" must give node and bun as ">=x.y.z"'
  exit 1
fi

if [ ! -f dist/src/server.js ]; then
  echo 'no dist/src/server.js: run `npm run build` first'
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Quiet when it works, the whole log when it does not.
quietly() {
  "$@" >"$work/log" 2>&1 || { cat "$work/log"; echo "failed: $*"; return 1; }
}

# One install for all four; the aliases keep two versions of each package side by side.
quietly npm install --prefix "$work/tools" --no-save --no-package-lock --no-audit --no-fund \
  "node-floor@npm:node@$node_floor" "node-lts@npm:node@$NODE_LTS" "bun-floor@npm:bun@$bun_floor" "bun-newest@npm:bun@$BUN_NEWEST"
tools="$work/tools/node_modules"
echo "runtimes: node $("$tools/node-floor/bin/node" --version) and $("$tools/node-lts/bin/node" --version), bun $("$tools/bun-floor/bin/bun.exe" --version) and $("$tools/bun-newest/bin/bun.exe" --version)"

# The seed flow on each storage this machine offers (memory always, Redis when REDIS_URL names one); the guard
# does not depend on storage, so once.
smoke_runs() {
  env -u REDIS_URL node "$smoke" "$@"
  if [ -n "${REDIS_URL:-}" ]; then node "$smoke" "$@"; fi
  env -u REDIS_URL node "$guard" "$@"
}

# Node starts the server as `npm start` does (tsx), from this tree's node_modules: argon2's binary is N-API, so
# what npm installed under the CI's Node serves the others as well. Then as `npm run start:prod` and the Docker
# image do, compiled (dist/, from `npm run build`): the JavaScript is the same whatever the storage, so the seed
# flow in memory shows it runs on each Node.
for node in node-floor node-lts; do
  smoke_runs "$tools/$node/bin/node" --import tsx src/server.ts
  env -u REDIS_URL node "$smoke" "$tools/$node/bin/node" dist/src/server.js
done

# Bun as its users start it: `bun install`, then `bun run src/server.ts` (Bun runs the TypeScript itself; tsx is
# not involved). Each Bun installs into a copy of its own of the tree's files (tracked and new, not ignored ones),
# so no bun.lock or node_modules mixes with this tree's or the other Bun's.
for bun in bun-floor bun-newest; do
  # The package's binary is bin/bun.exe on every platform; by the name its users know, the log reads better.
  mkdir -p "$work/bin/$bun" "$work/$bun"
  ln -s "$tools/$bun/bin/bun.exe" "$work/bin/$bun/bun"
  git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' file; do if [ -e "$file" ]; then printf '%s\0' "$file"; fi; done \
    | tar --null -T - -cf - | tar -xf - -C "$work/$bun"
  (
    cd "$work/$bun"
    quietly "$work/bin/$bun/bun" install
    smoke_runs "$work/bin/$bun/bun" run src/server.ts
  )
done
