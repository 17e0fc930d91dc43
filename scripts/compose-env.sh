#!/bin/sh
# Writes the secrets docker compose passes to the server into .env beside docker-compose.yml (or into the file named
# as the argument): CLIENT1_SECRET, COOKIE_KEYS and METRICS_TOKEN, each from openssl's random generator. A variable
# the file already sets is kept: run again, it changes nothing, so the secrets stay those the server runs with.
set -eu

file=${1:-"$(cd "$(dirname "$0")/.." && pwd)/.env"}
umask 077
touch "$file"
chmod 600 "$file"
# What is appended starts on a line of its own.
if [ -s "$file" ] && [ -n "$(tail -c 1 "$file")" ]; then echo >> "$file"; fi

added=""
add() {
  if ! grep -q "^$1=" "$file"; then
    value=$(openssl rand -hex "$2")
    echo "$1=$value" >> "$file"
    added="$added $1"
  fi
}
add CLIENT1_SECRET 24
add COOKIE_KEYS 32
add METRICS_TOKEN 32

echo "$file: ${added:+added$added; }client1's secret is on its CLIENT1_SECRET line (grep CLIENT1_SECRET $file)."
