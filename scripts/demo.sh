#!/usr/bin/env bash
# make demo: the main job, against the sandbox — no LINE account is touched.
# Starts `linectl sandbox`, logs in by QR and by password, whoami, send (text and
# an image), receive, download, one push through `linectl serve`'s Messaging API, logout.
set -euo pipefail
BIN=${1:-bin/linectl}
work=$(mktemp -d)
trap 'kill $sb 2>/dev/null || true; rm -rf "$work"' EXIT
export LINECTL_CONFIG=$work/config.yaml

step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; }

"$BIN" sandbox --addr 127.0.0.1:0 --phone-delay 1s --manual-scan >"$work/sandbox.out" 2>"$work/sandbox.err" &
sb=$!
for _ in $(seq 100); do grep -q '"type":"sandbox"' "$work/sandbox.out" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$work/sandbox.out" | head -1)
signer=$(sed -n 's/.*"signerCommand":"\([^"]*\)".*/\1/p' "$work/sandbox.out" | head -1)
[ -n "$url" ] || { cat "$work/sandbox.err" >&2; echo "sandbox did not start" >&2; exit 1; }
export LINECTL_GATEWAY=$url LINECTL_SIGNER_COMMAND="$signer"
echo "sandbox at $url (the simulated phone reads the QR code it is handed and approves PINs after 1s)" >&2

step "linectl login qr | linectl sandbox scan   (the phone reads the QR code: Letter Sealing keys arrive)"
"$BIN" login qr --qr-style ascii | "$BIN" sandbox scan
step linectl whoami
"$BIN" whoami
step linectl chats
"$BIN" chats
group=$("$BIN" chats | sed -n 's/.*"mid":"\([^"]*\)","name":"Family".*/\1/p')
step "linectl send --to $group \"hello from linectl\""
"$BIN" send --to "$group" "hello from linectl"
bob=u0b0b0000000000000000000000000b0b
step "linectl probe-e2ee $bob   (Bob has Letter Sealing on)"
"$BIN" probe-e2ee "$bob"
step "linectl send --to $bob \"sealed for Bob\"   (the sandbox opens it as Bob's app would)"
"$BIN" send --to "$bob" "sealed for Bob"
if command -v curl >/dev/null; then
  step "Bob answers, sealed by his app (/_sandbox/inject-sealed); linectl receive decrypts it"
  curl -fsS -d "{\"from\":\"$bob\",\"to\":\"u1a11ce0000000000000000000000a11c\",\"text\":\"sealed answer from Bob\"}" "$url/_sandbox/inject-sealed" >/dev/null
  "$BIN" receive --from-revision 0 --text-only --wait 500ms
fi
# A 1×1 PNG: a graph instead of a sentence, sealed for Bob (encrypted, uploaded, the key in the sealed message).
printf '%s' iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg== | base64 -d >"$work/graph.png"
step "linectl send --to $bob --image graph.png   (Letter-Sealed media)"
"$BIN" send --to "$bob" --image "$work/graph.png"
step "Bob sends a picture back; linectl receive | linectl download decrypts it"
"$BIN" sandbox do inject-media --from "$bob" --to u1a11ce0000000000000000000000a11c --sealed "$work/graph.png"
"$BIN" receive --from-revision 0 --wait 500ms | "$BIN" download --dir "$work"
if command -v curl >/dev/null; then
  step "linectl bot token add --name demo; linectl serve   (LINE's Messaging API from your own account)"
  token=$("$BIN" bot token add --name demo | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  "$BIN" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
  srv=$!
  for _ in $(seq 100); do grep -q '"type":"serve"' "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
  api=$(sed -n 's/.*"type":"serve","url":"\([^"]*\)".*/\1/p' "$work/serve.out" | head -1)
  [ -n "$api" ] || { cat "$work/serve.err" >&2; echo "serve did not start" >&2; exit 1; }
  step "curl -X POST $api/v2/bot/message/push -H \"Authorization: Bearer …\" -d '{\"to\":\"$group\",\"messages\":[…]}'"
  curl -fsS -X POST "$api/v2/bot/message/push" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -H 'X-Line-Retry-Key: 123e4567-e89b-12d3-a456-426614174000' \
    -d "{\"to\":\"$group\",\"messages\":[{\"type\":\"text\",\"text\":\"pushed through the Messaging API\"}]}"
  echo
  kill -TERM "$srv"
  wait "$srv" || true
  cat "$work/serve.out"
fi
step linectl logout
"$BIN" logout
step "linectl login password --email alice@example.com --password-stdin   (certificate saved: no PIN)"
echo "sandbox-password" | "$BIN" login password --email alice@example.com --password-stdin
step "echo multi-line | linectl send --to-name Family --confirm"
printf 'line one\nline two\n' | "$BIN" send --to-name Family --confirm
step "linectl receive --from-revision 0 --text-only   (the operation stream: what was sent)"
"$BIN" receive --from-revision 0 --text-only --wait 500ms
step linectl logout --forget-device
"$BIN" logout --forget-device
echo >&2
echo "demo done: every command above ran against the sandbox gateway" >&2
