package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// bigSize is the size of the big file: linectl's largest (maxFileSize).
const bigSize = 1 << 30

// sealedSandbox starts a simulator whose phone scans the printed QR code (so
// the login gets Letter Sealing keys and Ops alerts is a sealed chat), keeps
// OBS uploads out of its call record (a 1 GiB body would stay in memory
// twice over) and takes objects up to 2 GiB (a sealed 1 GiB file is 32 bytes
// more). It logs in under dir/name and returns the environment and the
// access token.
func sealedSandbox(bin, dir, name string, o simgw.Options) (*simgw.Server, string, []string, string) {
	o.PhoneDelay, o.ManualScan, o.UnrecordedOBSBodies, o.MaxOBSObject = time.Millisecond, true, true, 2<<30
	sim := simgw.NewSandbox(o)
	url, err := sim.Start("127.0.0.1:0")
	must(err)
	cfg := filepath.Join(dir, name, "config.yaml")
	env := append(os.Environ(), "LINECTL_CONFIG="+cfg, "LINECTL_GATEWAY="+url, "LINECTL_SIGNER=none")
	_, err = shell(env, fmt.Sprintf("%q login qr --qr-style ascii | %q sandbox scan", bin, bin))
	must(err)
	return sim, url, env, readToken(cfg)
}

// closeSandbox closes a simulator and hands the memory of its objects back.
func closeSandbox(sim *simgw.Server) {
	_ = sim.Close()
	runtime.GC()
	debug.FreeOSMemory()
}

// timed runs one command under GNU time (wall and peak RSS in one run: at
// a second or more a run, the wrapper's own start-up does not show), with
// stdin read from the file in (when not "") and stdout to out (when not "").
func timed(env []string, in, out string, name string, args ...string) (sample, error) {
	rssFile, err := os.CreateTemp("", "rss-")
	if err != nil {
		return sample{}, err
	}
	rssFile.Close()
	defer os.Remove(rssFile.Name())
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", rssFile.Name(), name}, args...)...)
	cmd.Env = env
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			return sample{}, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	err = cmd.Run()
	s := sample{wall: time.Since(start)}
	if b, rerr := os.ReadFile(rssFile.Name()); rerr == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			s.rss, _ = strconv.ParseInt(f[len(f)-1], 10, 64)
		}
	}
	if err != nil {
		return s, fmt.Errorf("%s %v: %v: %s", name, args, err, errb.String())
	}
	return s, nil
}

// obsCurl is curl's arguments for one OBS request with an OBS token; no
// Expect: 100-continue (curl would wait for the go-ahead before a large body).
func obsCurl(obsToken string, args ...string) []string {
	return append([]string{"-sS", "-f", "-H", "x-line-access: " + obsToken, "-H", "x-line-application: CHROMEOS\t3.7.2\tChrome_OS\t", "-H", "Expect:"}, args...)
}

// curlFileMessage sends one plain file message to Family (FILE_SIZE size)
// and returns its id: the object curl uploads.
func curlFileMessage(url, token string, size int) string {
	seq := 910000
	body := fmt.Sprintf(`[%d,{"from":"%s","to":"%s","toType":2,"id":"local-%d","createdTime":"%d","sessionId":0,"contentType":14,"contentMetadata":{"FILE_SIZE":"%d","FILE_NAME":"big.bin"},"hasContent":true}]`,
		seq, simgw.AliceMID, simgw.FamilyMID, seq, time.Now().Unix()*1000, size)
	id := jsonField(curlOut(gatewayCurl(url, token, "sendMessage", body)), "data.id")
	if id == "" {
		must(fmt.Errorf("sendMessage of a file message answered no id"))
	}
	return id
}

// bigRow is one line of the 1 GiB tables.
type bigRow struct {
	what string
	s    sample
	vs   int // the row (curl's) it is compared with
}

func writeBigTable(report *strings.Builder, rows []bigRow) {
	fmt.Fprintf(report, "| command | median wall | MB/s | vs curl | peak RSS |\n|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(report, "| %s | %s | %.0f | %.2f× | %.1f MB |\n", r.what, ms(r.s.wall), bigSize/1e6/r.s.wall.Seconds(), ratio(r.s.wall, rows[r.vs].s.wall), mb(r.s.rss))
	}
	report.WriteString("\n")
}

// benchBigFile: a 1 GiB file sent by `linectl send --file` (plain to Family,
// sealed to Ops alerts; from the file and from stdin) against curl uploading
// the same bytes to OBS, and `linectl download` of a 1 GiB object (plain and
// sealed, decrypted) against curl downloading the same object. Each variant
// gets a fresh simulator, so that no more than runs objects of 1 GiB are held
// in this process at a time.
func benchBigFile(report *strings.Builder, bin, dir string, runs int) {
	path := filepath.Join(dir, "big.bin")
	f, err := os.Create(path)
	must(err)
	must(f.Truncate(bigSize)) // sparse: reading it costs no disk
	must(f.Close())
	defer os.Remove(path)

	// Uploads.
	var up []bigRow
	{
		sim, url, env, token := sealedSandbox(bin, dir, "big-curl", simgw.Options{})
		obsToken := curlOBSToken(url, token)
		id := curlFileMessage(url, token, bigSize)
		var s []sample
		for i := 0; i < runs; i++ {
			x, err := timed(env, "", "", "curl", obsCurl(obsToken, "-o", "/dev/null", "-X", "POST", url+"/r/talk/m/"+id,
				"-H", "content-type: application/octet-stream", "-H", "x-obs-params: "+obsParamsB64("big.bin", "file"), "-T", path)...)
			must(err)
			s = append(s, x)
		}
		closeSandbox(sim)
		up = append(up, bigRow{"`curl -T` POST of the file to OBS (1 request)", median(s), 0})
	}
	for _, v := range []struct {
		what, to string
		stdin    bool
	}{
		{"`linectl send --file` to a plain chat", simgw.FamilyMID, false},
		{"`linectl send --file` to a Letter-Sealed chat (encrypting)", simgw.OpsMID, false},
		{"`linectl send --file - --name big.bin` (stdin) to a plain chat", simgw.FamilyMID, true},
		{"`linectl send --file - --name big.bin` (stdin) to a Letter-Sealed chat", simgw.OpsMID, true},
	} {
		sim, _, env, _ := sealedSandbox(bin, dir, "big-send", simgw.Options{})
		var s []sample
		for i := 0; i < runs; i++ {
			var x sample
			if v.stdin {
				x, err = timed(env, path, "", bin, "send", "--to", v.to, "--file", "-", "--name", "big.bin")
			} else {
				x, err = timed(env, "", "", bin, "send", "--to", v.to, "--file", path)
			}
			must(err)
			s = append(s, x)
		}
		closeSandbox(sim)
		up = append(up, bigRow{v.what, median(s), 0})
	}

	// Downloads: Bob sends Alice a 1 GiB file, plain and sealed.
	var down []bigRow
	{
		sim, url, env, token := sealedSandbox(bin, dir, "big-down", simgw.Options{})
		data := make([]byte, bigSize) // zeros, as the sparse file
		out := filepath.Join(dir, "down.bin")
		var talkMeta string // X-Talk-Meta of the sealed message, for curl
		lines := map[bool]string{}
		paths := map[bool]string{}
		for _, sealed := range []bool{false, true} {
			m, err := sim.InjectMedia(simgw.MediaInjection{From: simgw.BobMID, To: simgw.AliceMID, ContentType: 14, Name: "big.bin", Data: data, Sealed: sealed})
			must(err)
			msg := map[string]any{"from": m.From, "to": m.To, "toType": m.ToType, "id": m.ID, "createdTime": strconv.FormatInt(m.Created, 10),
				"hasContent": true, "contentType": m.ContentType, "contentMetadata": m.Metadata}
			paths[sealed] = "/r/talk/m/" + m.ID
			if sealed {
				msg["chunks"] = m.Chunks
				paths[sealed] = "/r/talk/" + m.Metadata["SID"] + "/" + m.Metadata["OID"]
				talkMeta = xTalkMeta(m.ID)
			}
			b, _ := json.Marshal(map[string]any{"type": "message", "message": msg})
			lines[sealed] = filepath.Join(dir, fmt.Sprintf("line-%v.json", sealed))
			must(os.WriteFile(lines[sealed], append(b, '\n'), 0o600))
		}
		data = nil
		obsToken := curlOBSToken(url, token)
		measure := func(what string, vs int, f func() (sample, error)) {
			var s []sample
			for i := 0; i < runs; i++ {
				_ = os.Remove(out)
				x, err := f()
				must(err)
				if st, err := os.Stat(out); err != nil || st.Size() < bigSize {
					must(fmt.Errorf("%s: %s is not the whole object (%v)", what, out, err))
				}
				s = append(s, x)
			}
			_ = os.Remove(out)
			down = append(down, bigRow{what, median(s), vs})
		}
		measure("`curl` GET of the plain object to a file (1 request)", 0, func() (sample, error) {
			return timed(env, "", "", "curl", obsCurl(obsToken, "-o", out, url+paths[false])...)
		})
		measure("`curl` GET of the sealed object to a file (not decrypted)", 1, func() (sample, error) {
			return timed(env, "", "", "curl", obsCurl(obsToken, "-o", out, "-H", "x-talk-meta: "+talkMeta, url+paths[true])...)
		})
		// linectl keeps a file only once it is on disk (fsync, then rename):
		// curl followed by sync FILE does the same work.
		measure("`curl` GET of the plain object, then `sync FILE` (on disk, as linectl keeps it)", 2, func() (sample, error) {
			return timed(env, "", "", "sh", "-c", shellQuote(append([]string{"curl"}, obsCurl(obsToken, "-o", out, url+paths[false])...))+" && sync "+shellQuote([]string{out}))
		})
		measure("`curl` GET of the sealed object, then `sync FILE`", 3, func() (sample, error) {
			return timed(env, "", "", "sh", "-c", shellQuote(append([]string{"curl"}, obsCurl(obsToken, "-o", out, "-H", "x-talk-meta: "+talkMeta, url+paths[true])...))+" && sync "+shellQuote([]string{out}))
		})
		measure("`linectl download` of the plain file", 2, func() (sample, error) {
			return timed(env, lines[false], "", bin, "download", "--force", "--output", out)
		})
		measure("`linectl download` of the sealed file (decrypting, tag checked)", 3, func() (sample, error) {
			return timed(env, lines[true], "", bin, "download", "--force", "--output", out)
		})
		closeSandbox(sim)
	}

	fmt.Fprintf(report, "## A 1 GiB file\n\nA 1 GiB file (sparse, zeros; linectl's largest) on loopback, %d run(s) each, a fresh simulator for each row. "+
		"MB/s is 10⁶ bytes of the file per second of wall time; vs curl is the wall-time ratio to the curl row of the same kind; peak RSS is the measured process's "+
		"(GNU time, in the same run). curl streams the file (`-T`, no `Expect: 100-continue`) to the object of a file message made beforehand, with "+
		"an OBS token asked beforehand; linectl does everything (checks the file, asks for the OBS token and the media flow, uploads, sends; sealed: encrypts). "+
		"The simulator holds each object in memory and reads each upload whole, so its own copying is in every row.\n\n### Upload\n\n", runs)
	writeBigTable(report, up)
	fmt.Fprintf(report, "### Download\n\nBob sent Alice the file, plain and sealed (the simulator's `InjectMedia`); `linectl download --output FILE` reads the "+
		"message's receive line on stdin and writes the file (sealed: decrypts, the tag checked before the file is kept); curl writes the "+
		"object's bytes (for the sealed one, still encrypted) to a file. linectl keeps a file only once it is on disk (fsync before the "+
		"rename), which curl -o does not: its rows are compared with curl followed by `sync FILE`, the same work.\n\n")
	writeBigTable(report, down)
	fmt.Fprintf(report, "Targets (issue 29): every linectl row ≤ 1.2× its curl row, peak RSS bounded (an earlier run measured 15 MB for the upload).\n\n")
}

// obsParamsB64 is X-Obs-Params for a plain upload.
func obsParamsB64(name, typ string) string {
	b, _ := json.Marshal(map[string]string{"ver": "2.0", "name": name, "type": typ})
	return base64.StdEncoding.EncodeToString(b)
}

// xTalkMeta is X-Talk-Meta naming a message: base64 of {"message": base64
// of a Thrift struct whose field 4 is the id}.
func xTalkMeta(id string) string {
	t := []byte{0x0B, 0, 4, 0, 0, 0, byte(len(id))}
	t = append(append(t, id...), 0)
	j, _ := json.Marshal(map[string]string{"message": base64.StdEncoding.EncodeToString(t)})
	return base64.StdEncoding.EncodeToString(j)
}

// shellQuote quotes args for sh -c.
func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
