#!/usr/bin/env bash
# Rebuilds testdata/ltsm/testmodule.wasm, the project's own stand-in for LINE's
# ltsm.wasm used by pkg/lineapi/wasmsign's tests. Needs Debian's emscripten
# (apt-get install emscripten). CI does not run this: the built module is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v em++ >/dev/null || { echo "build-testwasm: em++ not found (apt-get install emscripten)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
em++ -O1 --bind -std=c++17 -sENVIRONMENT=web -sFILESYSTEM=0 -sALLOW_MEMORY_GROWTH=0 \
  -o "$out/testmodule.js" testdata/ltsm/testmodule.cpp
cp "$out/testmodule.wasm" testdata/ltsm/testmodule.wasm
echo "built testdata/ltsm/testmodule.wasm ($(wc -c < testdata/ltsm/testmodule.wasm) bytes)"
