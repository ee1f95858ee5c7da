package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// LINE's Node SDK (@line/bot-sdk, pinned by test/sdk/node/package-lock.json
// and installed with npm ci into a temporary directory) against linectl
// serve: push, the retry key, multicast, profile, bad input, the SDK's
// validateSignature on linectl's webhook calls, a reply with their reply
// token, content download. Without node and npm it is skipped, except
// under CI (CI set), where it fails.
func TestServeNodeSDK(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (CI needs it for this test)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "sdk-test.mjs"} {
		b, err := os.ReadFile(filepath.Join("..", "sdk", "node", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Bounded: a registry or a script that hangs fails this test with what it
	// saw, instead of the whole package at go test's timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	npm := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund")
	npm.Dir = dir
	if out, err := npm.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}

	e := newSandboxEnv(t)
	e.loginQRWithKeys()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	l := e.addBotToken("--name", "node-sdk", "--webhook", "http://127.0.0.1:"+strconv.Itoa(port)+"/callback")
	srv := e.startServing([]string{"serve"}, "serve")

	node := exec.CommandContext(ctx, "node", "sdk-test.mjs")
	node.Dir = dir
	node.Env = append(os.Environ(), "LINECTL_URL="+srv.url, "TOKEN="+l["token"].(string), "SECRET="+l["channelSecret"].(string),
		"HOOK_PORT="+strconv.Itoa(port), "TO="+simgw.BobMID, "ALSO="+simgw.CarolMID)
	var stderr bytes.Buffer
	node.Stderr = &stderr
	out, err := node.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	defer node.Process.Kill()
	steps := map[string]map[string]any{}
	pic := testPNG(t, 12, 12)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("node printed %q", sc.Text())
		}
		steps[m["step"].(string)] = m
		if m["step"] == "ready" {
			time.Sleep(1500 * time.Millisecond) // serve looks for webhook tokens every second
			e.sim.InjectMessage(simgw.BobMID, simgw.AliceMID, "ping")
			if _, err := e.sim.InjectMedia(simgw.MediaInjection{From: simgw.BobMID, To: simgw.AliceMID, ContentType: 1, Name: "n.png", Data: pic, Sealed: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := node.Wait(); err != nil {
		t.Fatalf("node: %v (context: %v)\nsteps %v\nstderr:\n%s\nserve's stderr:\n%s", err, ctx.Err(), steps, stderr.String(), srv.stderrText())
	}
	if p := steps["push"]; p["status"] != float64(200) || len(p["sentMessages"].([]any)) != 1 {
		t.Fatalf("push %v", p)
	}
	if r := steps["retry"]; r["status"] != float64(409) || r["accepted"] != r["requestId"] || r["accepted"] == "" {
		t.Fatalf("retry %v", r)
	}
	if m := steps["multicast"]; m["status"] != float64(200) {
		t.Fatalf("multicast %v", m)
	}
	if p := steps["profile"]; p["displayName"] != "Carol" || p["userId"] != simgw.CarolMID {
		t.Fatalf("profile %v", p)
	}
	if b := steps["bad"]; b["six"] != float64(400) || b["long"] != float64(400) || b["unknownMid"] != float64(400) || b["unknownToken"] != float64(401) {
		t.Fatalf("bad input %v", b)
	}
	d := steps["done"]
	got, _ := base64.StdEncoding.DecodeString(d["content"].(string))
	if d["replySent"] != float64(1) || d["badSignatures"] != float64(0) || !bytes.Equal(got, pic) || !strings.HasPrefix(d["quoteToken"].(string), "lq1.") {
		t.Fatalf("done %v", d)
	}
	texts := storedTexts(e)
	for s, n := range map[string]int{"from the Node SDK": 1, "Node multicast": 2, "pong from Node": 1, "n0": 0, "who": 0} {
		if texts[s] != n {
			t.Fatalf("%q stored %d times, want %d", s, texts[s], n)
		}
	}
}
