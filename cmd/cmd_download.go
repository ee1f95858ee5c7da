package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tidwall/gjson"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/e2ee"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

type downloadOptions struct {
	deps
	In io.Reader // receive's lines
	// Storage is the object storage of the account's client.
	Storage func(cl *lineapi.Client) *obs.Client
	// Opener opens sealed messages (keys from the key store); save keeps
	// what it fetched.
	Opener sealerOpener

	// Warn reports a message that could not be saved (stderr) while the
	// others go on.
	Warn func(format string, a ...any)

	MessageID   string
	Output      string
	Dir         string
	Force       bool
	IdleTimeout time.Duration // no byte for this long ends a download
	MaxTime     time.Duration // one file's download, in all
	// Check only asks whether each object is stored (an "object" line each;
	// a placeholder is "stored":false), saving nothing.
	Check bool
}

// objectLine is printed by download --check for each media message.
type objectLine struct {
	Type      string `json:"type"` // "object"
	MessageID string `json:"messageId"`
	Object    string `json:"object"`
	Stored    bool   `json:"stored"`
	E2EE      bool   `json:"e2ee"`
}

// Bounds of download's --idle-timeout and --max-time.
const (
	defaultDownloadIdle    = 30 * time.Second
	defaultDownloadMaxTime = 30 * time.Minute
)

// downloadedLine is printed for each object saved.
type downloadedLine struct {
	Type      string `json:"type"` // "downloaded"
	MessageID string `json:"messageId"`
	File      string `json:"file"`
	Size      int64  `json:"size"`
	E2EE      bool   `json:"e2ee"`
}

func newCmdDownload(f *factory) *cobra.Command {
	opts := &downloadOptions{deps: f.deps(), In: f.IO.In,
		Storage: func(cl *lineapi.Client) *obs.Client { return newOBS(f, cl) },
		Opener:  f.accountSealer,
		Warn:    f.progress,
	}
	cmd := &cobra.Command{
		Use:   "download [--message-id ID] [--output FILE | --dir DIR]",
		Short: "Save the image or file of a received message",
		Long: `Save the image or file a media message carries (contentType 1 image, 14 file).

Give the message as the JSON line 'linectl receive' printed for it, on stdin (one or more
lines: every media message among them is saved; other lines are skipped), or, for a plain
(not sealed) message, its id with --message-id. A Letter-Sealed message needs the whole
operation line: linectl opens its sealed key (the file key never leaves your machine),
downloads the encrypted object and checks its HMAC before anything is written; a file that
does not authenticate is not kept.

Files go to --output (one message) or into --dir (default: the current directory) under
the name the sender gave, made safe (no directories; a clash gets the message id added).
With --check nothing is saved: each message gets {"type":"object","messageId":…,"object":…,
"stored":bool,"e2ee":bool}, and "stored":false is a placeholder (a plain message whose upload
never landed: 'linectl upload --message-id ID --file PATH' completes it).
An existing file is not replaced without --force. Each file is written to a temporary file
beside it and renamed into place, 0600. One line is printed per file:

  {"type":"downloaded","messageId":…,"file":…,"size":N,"e2ee":bool}

Every read is bounded: an object server that sends nothing for --idle-timeout (default 30s,
1s–10m) ends that download, and one file may take at most --max-time in all (default 30m,
1s–24h). A body longer than the size the message announced (FILE_SIZE; for a sealed file
with its 32-byte tag) or than its Content-Length is refused and not kept (exit 4, kind
bad_object); one that stalls or ends early is a network failure (exit 5). Either way no
partial file is left, the other messages are still tried, each failure is named on stderr,
and the exit code is the worst one.`,
		Example: `  linectl receive | jq -c 'select(.message.contentType == 1)' | linectl download --dir ~/line-images
  linectl download --message-id 605311889450205372 --output graph.png
  linectl download --idle-timeout 10s --max-time 5m --dir backups < lines.jsonl
  # which of my media messages in a chat are placeholders (their upload never landed)?
  linectl history --chat c0123456789abcdef0123456789abcdef --limit 200 | linectl download --check | jq -c 'select(.stored == false)'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Output != "" && opts.Dir != "" {
				return usageErrorf("give --output or --dir, not both")
			}
			if err := checkDuration("--idle-timeout", opts.IdleTimeout, time.Second, 10*time.Minute); err != nil {
				return err
			}
			if err := checkDuration("--max-time", opts.MaxTime, time.Second, 24*time.Hour); err != nil {
				return err
			}
			if opts.MessageID != "" {
				if _, err := positiveDecimal(opts.MessageID); err != nil {
					return usageErrorf("--message-id: %v", err)
				}
			} else if f.IO.InTTY {
				return usageErrorf("no message: pipe the lines 'linectl receive' printed, or give --message-id")
			}
			return runDownload(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.MessageID, "message-id", "", "the id of a plain media message (sealed ones need their receive line on stdin)")
	fl.BoolVar(&opts.Check, "check", false, `only say whether each object is stored ({"type":"object",…,"stored":bool}): a placeholder left by a crashed send is "stored":false`)
	fl.StringVarP(&opts.Output, "output", "o", "", "the file to write (one message)")
	fl.StringVar(&opts.Dir, "dir", "", "the directory to write into (default: the current one)")
	fl.BoolVar(&opts.Force, "force", false, "replace an existing file")
	fl.DurationVar(&opts.IdleTimeout, "idle-timeout", defaultDownloadIdle, "end a download when the object server sends nothing for this long (1s–10m)")
	fl.DurationVar(&opts.MaxTime, "max-time", defaultDownloadMaxTime, "the longest one file's download may take (1s–24h)")
	return cmd
}

// mediaRef is a media message as download needs it.
type mediaRef struct {
	id, name string
	path     string // the object on OBS
	// get is the request path of its download: path, with /original for a
	// plain original image and ?p=<OBS_POP> when the message names one.
	get    string
	size   int64            // the plain size the message announced (FILE_SIZE); 0: none
	sealed *lineapi.Message // a sealed one: its key material is in its chunks
	keyMat []byte
	// compact: read from a message line (receive --text-only, history),
	// which names no key material; compactSealed: that line's e2ee.
	compact, compactSealed bool
}

func runDownload(ctx context.Context, opts *downloadOptions) error {
	cl, err := opts.Client(true)
	if err != nil {
		return err
	}
	store := opts.Storage(cl)
	store.IdleTimeout = opts.IdleTimeout
	var refs []mediaRef
	if opts.MessageID != "" {
		refs = []mediaRef{{id: opts.MessageID, name: opts.MessageID + ".bin", path: "/r/talk/m/" + opts.MessageID, get: "/r/talk/m/" + opts.MessageID}}
	} else if refs, err = readMediaRefs(opts.In); err != nil {
		return err
	}
	if opts.Output != "" && len(refs) > 1 {
		return usageErrorf("--output takes one message; stdin has %d media messages (use --dir)", len(refs))
	}
	for _, r := range refs {
		if r.compactSealed && !opts.Check { // before anything is saved
			return usageErrorf("message %s is Letter-Sealed: its key is in the operation line ('linectl receive' without --text-only), not in this message line", r.id)
		}
	}
	var sealer *e2ee.Sealer
	var failed []error
	for _, r := range refs {
		if opts.Check {
			stored, err := checkOne(ctx, store, r)
			if err != nil {
				err = fmt.Errorf("message %s: %w", r.id, err)
				if c := classify(err).code; ctx.Err() != nil || c == ExitLogin || len(refs) == 1 {
					return err
				}
				failed = append(failed, err)
				continue
			}
			if err := opts.Out.line(objectLine{Type: "object", MessageID: r.id, Object: r.path, Stored: stored, E2EE: r.sealed != nil || r.compactSealed}); err != nil {
				return err
			}
			continue
		}
		if r.sealed != nil && sealer == nil {
			s, save, err := opts.Opener(ctx, cl)
			if err != nil {
				return err
			}
			defer save()
			sealer = s
		}
		line, err := downloadOne(ctx, store, sealer, r, opts)
		if err != nil {
			err = fmt.Errorf("message %s: %w", r.id, err)
			if c := classify(err).code; ctx.Err() != nil || c == ExitLogin || c == ExitInterrupted || len(refs) == 1 {
				return err // nothing after it can do better
			}
			if opts.Warn != nil {
				opts.Warn("download: %v (going on with the other messages)", err)
			}
			failed = append(failed, err)
			continue
		}
		if err := opts.Out.line(line); err != nil {
			return err
		}
	}
	return worstOf(failed, len(refs))
}

// worstOf is the error of a batch in which some downloads failed: its exit
// code is the worst of theirs, its message names each.
func worstOf(failed []error, total int) error {
	if len(failed) == 0 {
		return nil
	}
	worst := failed[0]
	msgs := make([]string, len(failed))
	for i, err := range failed {
		msgs[i] = err.Error()
		if rank(classify(err).code) > rank(classify(worst).code) {
			worst = err
		}
	}
	c := classify(worst)
	return withExit(c.code, c.kind, fmt.Errorf("%d of %d downloads failed: %s", len(failed), total, strings.Join(msgs, "; ")))
}

// readMediaRefs reads receive's lines (operation or message lines, or bare
// message objects) and keeps the media messages.
func readMediaRefs(in io.Reader) ([]mediaRef, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxJSONLLine)
	var refs []mediaRef
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if !gjson.Valid(line) {
			return nil, usageErrorf("stdin line %d is not JSON (give the lines 'linectl receive' prints)", n)
		}
		j := gjson.Parse(line)
		var r mediaRef
		var err error
		if j.Get("type").String() == "message" && !j.Get("message").IsObject() { // a --text-only or history line
			if !lineapi.IsMedia(int(j.Get("contentType").Int())) {
				continue
			}
			r, err = compactRefOf(j)
		} else {
			if msg := j.Get("message"); msg.IsObject() {
				j = msg
			}
			m, perr := lineapi.ParseMessage([]byte(j.Raw))
			if perr != nil || !lineapi.IsMedia(m.ContentType) {
				continue
			}
			r, err = mediaRefOf(m)
		}
		if err != nil {
			return nil, usageErrorf("stdin line %d: %v", n, err)
		}
		refs = append(refs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, usageErrorf("read stdin: %v", err)
	}
	if len(refs) == 0 {
		return nil, usageErrorf("no media message on stdin (contentType 1 or 14)")
	}
	return refs, nil
}

// mediaRefOf locates a message's object: OID present → /r/talk/<SID>/<OID>
// (sealed), else /r/talk/m/<message id>; and the path to download it by, as
// LINE's extension 3.7.2 builds it (yb, vb): a plain message whose
// MEDIA_CONTENT_INFO.category is "original" is asked at
// /r/talk/m/<id>/original, and a message carrying OBS_POP adds ?p=<OBS_POP>
// (beeper/line pkg/connector/handlers/image.go lineOBSDownloadOptions and
// pkg/line/client.go DownloadOBSWithSIDOptions do the same). Without them
// OBS may serve a re-encoded copy.
func mediaRefOf(m *lineapi.Message) (mediaRef, error) {
	id := m.ID
	if _, err := positiveDecimal(id); err != nil {
		return mediaRef{}, fmt.Errorf("message id %q: %v", id, err)
	}
	md := m.ContentMetadata
	r := mediaRef{id: id, name: md["FILE_NAME"], path: "/r/talk/m/" + id}
	// An unreadable FILE_SIZE bounds nothing: linectl's own limit does.
	if n, err := positiveDecimal(md["FILE_SIZE"]); err == nil && n <= maxFileSize {
		r.size = n
	}
	if oid := md["OID"]; oid != "" {
		sid := md["SID"]
		if sid == "" {
			sid = map[int]string{lineapi.ContentImage: obs.SIDSealedImage, lineapi.ContentFile: obs.SIDSealedFile}[m.ContentType]
		}
		if !safeSegment(sid) || !safeSegment(oid) {
			return mediaRef{}, fmt.Errorf("object %q/%q is not a storage path", sid, oid)
		}
		r.path = "/r/talk/" + sid + "/" + oid
	}
	r.get = r.path
	if _, sealed := md["OID"]; !sealed && gjson.Get(md["MEDIA_CONTENT_INFO"], "category").String() == "original" {
		r.get += "/original"
	}
	if pop := md["OBS_POP"]; pop != "" {
		if len(pop) > 128 {
			return mediaRef{}, fmt.Errorf("OBS_POP %q is too long", pop[:32]+"…")
		}
		r.get += "?p=" + url.QueryEscape(pop)
	}
	if m.Sealed() {
		r.sealed = m
	}
	return r, nil
}

// safeSegment accepts a path segment of letters, digits, '-' and '_'.
func safeSegment(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// downloadOne fetches one object into its file.
func downloadOne(ctx context.Context, store *obs.Client, sealer *e2ee.Sealer, r mediaRef, opts *downloadOptions) (*downloadedLine, error) {
	if r.sealed != nil {
		km, name, err := openMediaKey(ctx, sealer, r.sealed)
		if err != nil {
			return nil, err
		}
		r.keyMat = km
		if name != "" {
			r.name = name
		}
	}
	dest, err := downloadPath(r, opts)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".linectl-download-*")
	if err != nil {
		return nil, withExit(ExitUsage, kindUsage, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	defer tmp.Close()
	var w io.Writer = tmp
	var dec *obs.Decrypter
	if r.keyMat != nil {
		if dec, err = obs.NewDecrypter(r.keyMat, tmp); err != nil {
			return nil, err
		}
		w = dec
	}
	limit := int64(maxFileSize)
	if r.size > 0 {
		limit = r.size // refuse more than announced
	}
	if r.keyMat != nil {
		limit += obs.TagSize
	}
	if opts.MaxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.MaxTime, fmt.Errorf("%w: the download took longer than --max-time %v", context.DeadlineExceeded, opts.MaxTime))
		defer cancel()
	}
	n, err := store.Download(ctx, r.get, r.talkMeta(), w, limit)
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, context.DeadlineExceeded) {
			err = cause
		}
		var oe *obs.Error
		if errors.As(err, &oe) && (oe.Status == 202 || oe.Status == 404) && r.keyMat == nil {
			// A plain message whose object never arrived shows a placeholder.
			err = fmt.Errorf("%w (no object: if this is a message you sent whose upload never finished, 'linectl upload --message-id %s --file PATH' completes it)", err, r.id)
		}
		if errors.Is(err, obs.ErrTooLong) && r.size > 0 {
			err = fmt.Errorf("%w (the message announced %d bytes)", err, r.size)
		}
		return nil, err
	}
	if dec != nil {
		if err := dec.Close(); err != nil {
			return nil, withExit(ExitRejected, kindBadObject, err)
		}
		n -= obs.TagSize
	}
	if err := tmp.Sync(); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if !opts.Force {
		if _, err := os.Lstat(dest); err == nil {
			return nil, usageErrorf("%s exists (use --force to replace it)", dest)
		}
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return nil, err
	}
	return &downloadedLine{Type: "downloaded", MessageID: r.id, File: dest, Size: n, E2EE: r.keyMat != nil}, nil
}

// openMediaKey unseals a media message's payload: its key material and file name.
func openMediaKey(ctx context.Context, s *e2ee.Sealer, m *lineapi.Message) ([]byte, string, error) {
	o, err := s.OpenMessage(ctx, m)
	if err != nil {
		return nil, "", withExit(ExitRejected, kindE2EERequired, fmt.Errorf("cannot open the sealed key: %w", err))
	}
	if o.KeyMaterial == nil {
		return nil, "", withExit(ExitRejected, kindBadObject, errors.New("the sealed payload has no keyMaterial"))
	}
	if len(o.KeyMaterial) != obs.KeyMaterialSize {
		return nil, "", withExit(ExitRejected, kindBadObject, errors.New("the sealed keyMaterial is not 32 bytes of base64"))
	}
	return o.KeyMaterial, o.FileName, nil
}

// downloadPath is where r goes: --output, or a safe name in --dir.
func downloadPath(r mediaRef, opts *downloadOptions) (string, error) {
	if opts.Output != "" {
		return opts.Output, nil
	}
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	name := safeFileName(r.name)
	if name == "" {
		name = r.id + ".bin"
	}
	p := filepath.Join(dir, name)
	if _, err := os.Lstat(p); err == nil && !opts.Force {
		ext := filepath.Ext(name)
		p = filepath.Join(dir, strings.TrimSuffix(name, ext)+"-"+r.id+ext)
	}
	return p, nil
}

// safeFileName keeps the last path element of a sender's name, without
// control characters or a leading dot (no hidden files, no "..").
func safeFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || isInvisible(r) && r != ' ' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	if len(name) > 200 {
		name = name[:200]
	}
	return strings.ToValidUTF8(name, "")
}

// checkOne asks whether r's object is stored (download --check).
func checkOne(ctx context.Context, store *obs.Client, r mediaRef) (bool, error) {
	return store.Stored(ctx, r.get, r.talkMeta())
}

// compactRefOf locates the object of a message line as 'receive
// --text-only' and 'history' print it: its messageId and object. It names no
// key material, so a sealed one (e2ee) can be checked (--check) but not
// downloaded: that needs the operation line.
func compactRefOf(m gjson.Result) (mediaRef, error) {
	id := m.Get("messageId").String()
	if _, err := positiveDecimal(id); err != nil {
		return mediaRef{}, fmt.Errorf("message id %q: %v", id, err)
	}
	obj := m.Get("object").String()
	segs := strings.Split(strings.TrimPrefix(obj, "/r/talk/"), "/")
	if !strings.HasPrefix(obj, "/r/talk/") || len(segs) != 2 || !safeSegment(segs[0]) || !safeSegment(segs[1]) {
		return mediaRef{}, fmt.Errorf("object %q is not a storage path", obj)
	}
	name := m.Get("fileName").String()
	if name == "" {
		name = id + ".bin"
	}
	r := mediaRef{id: id, name: name, path: obj, get: obj, compact: true, compactSealed: m.Get("e2ee").Bool()}
	if n := m.Get("fileSize").Int(); n > 0 && n <= maxFileSize {
		r.size = n
	}
	return r, nil
}

// talkMeta is the X-Talk-Meta of r's download: only for a sealed object, as
// the extension's download sends it.
func (r mediaRef) talkMeta() string {
	if r.path == "/r/talk/m/"+r.id {
		return ""
	}
	return obs.TalkMeta(r.id)
}
