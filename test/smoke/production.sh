#!/usr/bin/env bash
# The Docker image without a Docker engine: assembles what the Dockerfile's final stage copies (the build stage's
# output is this tree's dist/, from `npm run build`; the deps stage's node_modules is `npm ci --omit=dev` of the
# same lockfile) in a directory of its own, checks that no development tool or TypeScript source came along, and
# runs test/smoke/production.mjs against the image's CMD there, with nothing else installed. `.ci/run` calls it.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
if [ ! -f dist/src/server.js ]; then
  echo 'no dist/src/server.js: run `npm run build` first'
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
image="$work/app"
deps="$work/deps"
mkdir -p "$image" "$deps"

cp package.json package-lock.json "$deps/"
(cd "$deps" && npm ci --omit=dev --no-audit --no-fund >"$work/log" 2>&1) || { cat "$work/log"; echo 'npm ci --omit=dev failed'; exit 1; }

# The final stage is everything after the last FROM; each COPY there is done here, from where its stage keeps it.
final=$(awk '/^FROM /{stage=""} {stage = stage $0 "\n"} END{printf "%s", stage}' Dockerfile)
while read -r _ from source destination; do
  case "$from" in
    --from=build) source="$repo/${source#/app/}" ;;
    --from=deps) source="$deps/${source#/app/}" ;;
    *) destination=$source; source="$repo/$from" ;;
  esac
  cp -R "$source" "$image/$destination"
done < <(printf '%s' "$final" | grep '^COPY ')
cmd=$(printf '%s' "$final" | sed -n 's/^CMD //p' | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).join(" "))')
echo "image: $(ls "$image" | tr '\n' ' '); CMD $cmd"

for tool in tsx esbuild @esbuild typescript; do
  if [ -e "$image/node_modules/$tool" ]; then echo "the image has $tool"; exit 1; fi
done
sources=$(find "$image" -path "$image/node_modules" -prune -o -name '*.ts' -print)
if [ -n "$sources" ]; then echo "the image has TypeScript sources: $sources"; exit 1; fi
echo "no tsx, esbuild, typescript or .ts sources; $(ls "$image/node_modules" | wc -l) production packages"

# The operator's command, as the README runs it in the image: compiled, without tsx.
admin=$(cd "$image" && node bin/mcp-oauth-admin.js --version)
[ "$admin" = "mcp-oauth-admin $(node -p 'require("./package.json").version')" ] || { echo "admin command: $admin"; exit 1; }
(cd "$image" && node bin/mcp-oauth-admin.js keys generate --json | node -e 'const k = JSON.parse(require("fs").readFileSync(0, "utf8")); if (!k.jwks.keys.length || !k.cookieKeys.length) process.exit(1)') \
  || { echo 'admin keys generate failed in the image'; exit 1; }
echo "the image runs $admin"

# shellcheck disable=SC2086 # the CMD's words
(cd "$image" && env -u REDIS_URL node "$repo/test/smoke/production.mjs" $cmd)
