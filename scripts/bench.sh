#!/usr/bin/env bash
# make bench: linectl vs curl (and curl | jq for the stream); writes docs/benchmarks.md.
set -euo pipefail
BIN=${1:-bin/linectl}
need=()
command -v curl >/dev/null || need+=(curl)
command -v jq >/dev/null || need+=(jq)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  echo "bench: installing ${need[*]}" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}"; else sudo apt-get install -y "${need[@]}"; fi
fi
exec go run ./scripts/bench -bin "$BIN" "${@:2}"
