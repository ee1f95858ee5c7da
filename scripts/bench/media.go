package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/linectl/linectl/internal/simgw"
)

// benchMedia: a 5 MB image sent by linectl (plain to Family, sealed to Ops
// alerts) vs curl uploading the same bytes to object storage (one POST; the
// message it belongs to and the OBS token made beforehand, so curl pays
// only the upload).
func benchMedia(report *strings.Builder, bin, dir string, runs int) {
	// Its own sandbox, where the phone scans the printed QR code, so the
	// login gets Letter Sealing keys (sealed chats need them).
	sim := simgw.NewSandbox(simgw.Options{PhoneDelay: time.Millisecond, ManualScan: true})
	url, err := sim.Start("127.0.0.1:0")
	must(err)
	defer sim.Close()
	cfg := filepath.Join(dir, "media", "config.yaml")
	env := append(os.Environ(), "LINECTL_CONFIG="+cfg, "LINECTL_GATEWAY="+url, "LINECTL_SIGNER=none")
	_, err = shell(env, fmt.Sprintf("%q login qr --qr-style ascii | %q sandbox scan", bin, bin))
	must(err)
	token := readToken(cfg)
	pic := noisePNG(1150, 1150)
	path := filepath.Join(dir, "bench.png")
	must(os.WriteFile(path, pic, 0o600))
	obsToken := curlOBSToken(url, token)
	id := curlMediaMessage(url, token, len(pic))
	var plain, sealed, curl []sample
	for i := 0; i < runs; i++ {
		s, err := run(env, nil, bin, "send", "--to", simgw.FamilyMID, "--image", path)
		must(err)
		plain = append(plain, s)
		s, err = run(env, nil, bin, "send", "--to", simgw.OpsMID, "--image", path)
		must(err)
		sealed = append(sealed, s)
		s, err = run(env, nil, "curl", "-sS", "-o", "/dev/null", "-X", "POST", url+"/r/talk/m/"+id,
			"-H", "x-line-access: "+obsToken, "-H", "x-line-application: CHROMEOS\t3.7.2\tChrome_OS\t",
			"-H", "content-type: application/octet-stream", "-H", "x-obs-params: eyJ2ZXIiOiIyLjAiLCJuYW1lIjoiYmVuY2gucG5nIiwidHlwZSI6ImltYWdlIn0=",
			"--data-binary", "@"+path)
		must(err)
		curl = append(curl, s)
	}
	c, p, se := median(curl), median(plain), median(sealed)
	fmt.Fprintf(report, "## A 5 MB image\n\n%.1f MB PNG (%d runs, loopback). curl only uploads the bytes (the message and the OBS token made beforehand); "+
		"linectl does everything: checks the file, makes the 1280 px preview, asks for an OBS token and the media flow, sends, uploads "+
		"(sealed: encrypts first, uploads, then sends).\n\n| command | median wall | vs curl |\n|---|---:|---:|\n", float64(len(pic))/1e6, runs)
	fmt.Fprintf(report, "| `curl` POST of the bytes to OBS | %s | 1.00× |\n", ms(c.wall))
	fmt.Fprintf(report, "| `linectl send --image` to a plain chat | %s | %.2f× |\n", ms(p.wall), ratio(p.wall, c.wall))
	fmt.Fprintf(report, "| `linectl send --image` to a Letter-Sealed chat | %s | %.2f× |\n\n", ms(se.wall), ratio(se.wall, c.wall))
	fmt.Fprintf(report, "On loopback the bytes cost curl almost nothing, so the ratio is linectl's own work: the preview "+
		"(decoding the PNG, scaling, JPEG encoding — made while the network calls go on) and three more gateway calls. "+
		"Over a real uplink the upload dominates both (5 MB at 50 Mbit/s is 0.8 s).\n\n")
}

// noisePNG is a w×h PNG of random pixels: it does not compress, so its size
// is about w×h×4 bytes.
func noisePNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	img.Set(0, 0, color.NRGBA{A: 255})
	var b bytes.Buffer
	must(png.Encode(&b, img))
	return b.Bytes()
}

func gatewayCurl(url, token, method, body string) []string {
	return []string{"-sS", "-X", "POST", url + "/api/talk/thrift/Talk/TalkService/" + method,
		"-H", "content-type: application/json", "-H", "accept: application/json, text/plain, */*",
		"-H", "x-line-chrome-version: 3.7.2", "-H", "x-lal: en_US", "-H", "origin: chrome-extension://ophjlpahpchlmihnnnihgmmeilfjmjjc",
		"-H", "user-agent: Mozilla/5.0 Chrome/146.0.0.0", "-H", "x-line-access: " + token, "-H", "cookie: lct=" + token, "--data-binary", body}
}

func curlOut(args []string) string {
	out, err := runOutput("curl", args...)
	must(err)
	return out
}

// curlOBSToken asks acquireEncryptedAccessToken once.
func curlOBSToken(url, token string) string {
	out := curlOut(gatewayCurl(url, token, "acquireEncryptedAccessToken", "[2]"))
	_, tok, ok := strings.Cut(jsonField(out, "data"), "\x1e")
	if !ok {
		must(fmt.Errorf("acquireEncryptedAccessToken answered %q", out))
	}
	return tok
}

// curlMediaMessage sends one plain image message to Family and returns its id.
func curlMediaMessage(url, token string, size int) string {
	seq := 900000
	body := fmt.Sprintf(`[%d,{"from":"%s","to":"%s","toType":2,"id":"local-%d","createdTime":"%d","sessionId":0,"contentType":1,"contentMetadata":{"FILE_SIZE":"%d","FILE_NAME":"bench.png","contentType":"1"},"hasContent":true}]`,
		seq, simgw.AliceMID, simgw.FamilyMID, seq, time.Now().Unix()*1000, size)
	return jsonField(curlOut(gatewayCurl(url, token, "sendMessage", body)), "data.id")
}

// runOutput runs a command and returns its stdout.
func runOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}

// jsonField is the string at a gjson path of a JSON document.
func jsonField(doc, path string) string { return gjson.Get(doc, path).String() }
