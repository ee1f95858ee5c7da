// Package obs talks to LINE's object storage (OBS, obs.line-apps.com), where
// chat images and files live: uploads, downloads, and the encryption of
// Letter-Sealed media. docs/media-protocol.md holds the facts and their
// sources; what no peer established is marked there as a guess.
//
// OBS requests are not signed (no x-hmac) and carry, in x-line-access, an
// OBS token that acquireEncryptedAccessToken issues, not the access token.
package obs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
)

// xLineApplication is the x-line-application the extension sends (OkLine's
// reading of the 3.7.2 bundle; beeper/line omits the trailing tab).
const xLineApplication = "CHROMEOS\t3.7.2\tChrome_OS\t"

// Object types of X-Obs-Params.
const (
	TypeImage = "image"
	TypeFile  = "file"
)

// Storage ids (SIDs) of Letter-Sealed objects.
const (
	SIDSealedImage = "emi"
	SIDSealedFile  = "emf"
)

// Params is the X-Obs-Params header of an upload.
type Params struct {
	Name string // the object's name (the file name)
	Type string // image | file (sealed objects are always "file")
	Cat  string // "original" for a full-size image, else ""
}

// Header is the header value: standard base64 of a JSON object with string
// values (beeper/line, linejs uploadObjTalk).
func (p Params) Header() string {
	m := map[string]string{"ver": "2.0", "name": p.Name, "type": p.Type}
	if p.Cat != "" {
		m["cat"] = p.Cat
	}
	b, _ := json.Marshal(m)
	return base64.StdEncoding.EncodeToString(b)
}

// TalkMeta is the X-Talk-Meta header of a download: standard base64 of
// {"message": base64(Thrift binary struct {4: string id, 27: empty list of
// structs})} (beeper/line constructTalkMeta, linejs, OkLine build_talk_meta).
func TalkMeta(messageID string) string {
	var b bytes.Buffer
	b.WriteByte(0x0B)
	_ = binary.Write(&b, binary.BigEndian, int16(4))
	_ = binary.Write(&b, binary.BigEndian, int32(len(messageID)))
	b.WriteString(messageID)
	b.WriteByte(0x0F)
	_ = binary.Write(&b, binary.BigEndian, int16(27))
	b.WriteByte(0x0C)
	_ = binary.Write(&b, binary.BigEndian, int32(0))
	b.WriteByte(0x00)
	j, _ := json.Marshal(map[string]string{"message": base64.StdEncoding.EncodeToString(b.Bytes())})
	return base64.StdEncoding.EncodeToString(j)
}

// ReqID is a fresh upload id for a Letter-Sealed object: "reqid-" and a
// random UUID (linejs uploadMediaByE2EE; beeper/line writes 16 random bytes
// the same way).
func ReqID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return "reqid-" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// TokenFunc returns the OBS token to use; fresh asks for a new one (the last
// was refused).
type TokenFunc func(ctx context.Context, fresh bool) (string, error)

// Client uploads and downloads objects.
type Client struct {
	BaseURL   string
	HTTP      *http.Client
	Token     TokenFunc
	UserAgent string
	// Sleep waits between attempts (default: a timer honouring ctx).
	Sleep func(context.Context, time.Duration) error
	// Attempts is how many times an upload or download is tried in all (default 3).
	Attempts int
	// IdleTimeout bounds a download's wait for its answer and for each read
	// of its body: no byte for this long ends the attempt (ErrStalled).
	// 0: no bound (the context's deadline only).
	IdleTimeout time.Duration
}

// Download failures that say what the object storage did wrong.
var (
	// ErrTruncated: the body ended before its Content-Length.
	ErrTruncated = errors.New("the object storage's answer ended before the object did")
	// ErrStalled: no byte of the answer came within IdleTimeout.
	ErrStalled = errors.New("the object storage stopped sending")
	// ErrTooLong: the body is longer than the caller's bound (the size the
	// message announced, or linectl's limit): refused, not kept.
	ErrTooLong = errors.New("the object is longer than it may be")
)

// Error is an answer OBS gave that is not a success.
type Error struct {
	Op     string // upload | download
	Status int
	Body   string // at most 200 bytes, for the message
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: object storage answered HTTP %d", e.Op, e.Status)
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Temporary reports whether another attempt may succeed: a network failure,
// 5xx, 429, or 202/404 on a download of an object not yet ready.
func Temporary(err error) bool {
	var oe *Error
	if errors.As(err, &oe) {
		return oe.Status >= 500 || oe.Status == 429 || (oe.Op == "download" && oe.Status == 202)
	}
	return err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrBadBlob) && !errors.As(err, new(*sourceError))
}

// Source is what an upload sends: it is opened once per attempt, so an
// interrupted upload is sent again from the start.
type Source struct {
	Open func() (io.ReadCloser, error)
	Size int64
}

// BytesSource is a Source of b.
func BytesSource(b []byte) Source {
	return Source{Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, Size: int64(len(b))}
}

type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// ErrNoOID means OBS stored a sealed object (2xx) but did not say its id
// in x-obs-oid: the sealed message could not name it. LINE's extension
// throws then too (nE); on a plain upload it never reads the header (eE).
var ErrNoOID = errors.New("upload: object storage answered without x-obs-oid")

// Upload POSTs src to path (e.g. /r/talk/m/<messageId>) and returns the
// x-obs-oid OBS answers, "" when it sent none: any 2xx is success. A caller
// that needs the id (a sealed upload to reqid-…) checks it (ErrNoOID); a
// plain upload to /r/talk/m/<id> does not need it, as LINE's extension 3.7.2
// (eE) never reads it there. Each attempt sends the whole object again to
// the same path, which OBS stores once (an upload is not a message:
// repeating it sends nothing to anyone). A refused token is renewed once.
func (c *Client) Upload(ctx context.Context, path string, p Params, src Source) (string, error) {
	var oid string
	err := c.retry(ctx, func(token string) error {
		body, err := src.Open()
		if err != nil {
			return &sourceError{err}
		}
		defer body.Close()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, body)
		if err != nil {
			return err
		}
		req.ContentLength = src.Size
		c.header(req, token)
		req.Header.Set("content-type", "application/octet-stream")
		req.Header.Set("x-obs-params", p.Header())
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if err := answer("upload", resp); err != nil {
			return err
		}
		oid = resp.Header.Get("x-obs-oid")
		return nil
	})
	return oid, err
}

// Download GETs path into w, at most max bytes (more is ErrTooLong: max
// is the size the message announced, or a limit). talkMeta, when not "",
// is sent as X-Talk-Meta. An answer that stalls for IdleTimeout is
// ErrStalled, one that ends before its Content-Length ErrTruncated. An
// attempt that fails after writing to w is not repeated (w would hold part
// of the object twice).
func (c *Client) Download(ctx context.Context, path, talkMeta string, w io.Writer, max int64) (int64, error) {
	var n int64
	err := c.retry(ctx, func(token string) error {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		idle := watchIdle(c.IdleTimeout, cancel)
		defer idle.stop()
		resp, err := c.get(ctx, path, talkMeta, token)
		if err != nil {
			if errors.Is(context.Cause(ctx), ErrStalled) {
				return fmt.Errorf("%w: no answer within %v", ErrStalled, c.IdleTimeout)
			}
			return err
		}
		defer resp.Body.Close()
		if err := answer("download", resp); err != nil {
			return err
		}
		if resp.StatusCode == http.StatusAccepted {
			return &Error{Op: "download", Status: 202, Body: "the object is not ready yet"}
		}
		if resp.ContentLength > max {
			return &sourceError{fmt.Errorf("%w: its Content-Length is %d bytes, more than %d", ErrTooLong, resp.ContentLength, max)}
		}
		var readErr error
		src := idle.reader(resp.Body)
		body := readFunc(func(p []byte) (int, error) {
			k, err := src.Read(p)
			if err != nil && err != io.EOF {
				readErr = err
			}
			return k, err
		})
		// 256 KiB at a time (io.Copy's 32 KiB means eight times the
		// decrypting writes and syscalls); w's ReadFrom is hidden so that the
		// buffer is this one.
		n, err = io.CopyBuffer(struct{ io.Writer }{w}, io.LimitReader(body, max+1), make([]byte, 256<<10))
		switch {
		case errors.Is(context.Cause(ctx), ErrStalled):
			return &sourceError{fmt.Errorf("%w after %d bytes: nothing for %v", ErrStalled, n, c.IdleTimeout)}
		case readErr != nil && ctx.Err() == nil || errors.Is(readErr, io.ErrUnexpectedEOF):
			// The connection ended (or broke) before the object did.
			return &sourceError{fmt.Errorf("%w after %d of %d bytes: %w", ErrTruncated, n, resp.ContentLength, readErr)}
		case err != nil:
			return &sourceError{fmt.Errorf("download: %w", err)}
		case n > max:
			return &sourceError{fmt.Errorf("%w: more than %d bytes", ErrTooLong, max)}
		}
		return nil
	})
	return n, err
}

// Stored reports whether the object at path is stored: its download is
// asked (the same GET, with talkMeta for a sealed object) and only the
// status read — 2xx but 202 is stored; 202 ("not ready") and 404 are not
// (docs/media-protocol.md: a plain message whose upload never landed); any
// other answer is an error. No body is read.
// OBS: GET /r/talk/m/<id>, /r/talk/<SID>/<OID>
func (c *Client) Stored(ctx context.Context, path, talkMeta string) (bool, error) {
	var stored bool
	err := c.retry(ctx, func(token string) error {
		resp, err := c.get(ctx, path, talkMeta, token)
		if err != nil {
			return err
		}
		resp.Body.Close() // the status is all it needs (a large object's connection is dropped)
		switch {
		case resp.StatusCode == http.StatusAccepted, resp.StatusCode == http.StatusNotFound:
			stored = false
			return nil
		case resp.StatusCode/100 == 2:
			stored = true
			return nil
		}
		return answer("check", resp)
	})
	return stored, err
}

// get asks for the object at path (with X-Talk-Meta for a sealed one), as a
// download does.
func (c *Client) get(ctx context.Context, path, talkMeta, token string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return nil, err
	}
	c.header(req, token)
	if talkMeta != "" {
		req.Header.Set("x-talk-meta", talkMeta)
	}
	return c.HTTP.Do(req)
}

// idleWatch cancels an attempt when no byte comes for d.
type idleWatch struct {
	d time.Duration
	t *time.Timer
}

func watchIdle(d time.Duration, cancel context.CancelCauseFunc) *idleWatch {
	w := &idleWatch{d: d}
	if d > 0 {
		w.t = time.AfterFunc(d, func() { cancel(ErrStalled) })
	}
	return w
}

func (w *idleWatch) stop() {
	if w.t != nil {
		w.t.Stop()
	}
}

// reader restarts the watch on every read that brings bytes.
func (w *idleWatch) reader(r io.Reader) io.Reader {
	if w.t == nil {
		return r
	}
	return readFunc(func(p []byte) (int, error) {
		n, err := r.Read(p)
		if n > 0 {
			w.t.Reset(w.d)
		}
		return n, err
	})
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }

func (c *Client) header(req *http.Request, token string) {
	h := req.Header
	h.Set("user-agent", c.UserAgent)
	h.Set("x-line-application", xLineApplication)
	h.Set("x-lal", "en_US")
	h.Set("x-line-access", token)
}

// answer turns a non-2xx answer into an *Error.
func answer(op string, resp *http.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	return &Error{Op: op, Status: resp.StatusCode, Body: strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))}
}

// retry runs one attempt at a time: a 401 renews the token once; what
// Temporary says may pass is tried again after a pause.
func (c *Client) retry(ctx context.Context, attempt func(token string) error) error {
	token, err := c.Token(ctx, false)
	if err != nil {
		return err
	}
	renewed := false
	tries := c.Attempts
	if tries == 0 {
		tries = 3
	}
	for i := 1; ; i++ {
		err = attempt(token)
		var oe *Error
		if errors.As(err, &oe) && oe.Status == http.StatusUnauthorized && !renewed {
			renewed = true
			if token, err = c.Token(ctx, true); err != nil {
				return err
			}
			i--
			continue
		}
		if err == nil || i >= tries || !Temporary(err) {
			return err
		}
		if serr := c.sleep(ctx, transferBackoff.Delay(i)); serr != nil {
			return err
		}
	}
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	return lineapi.SleepContext(ctx, d)
}

// transferBackoff spaces the attempts of an upload or a download.
var transferBackoff = lineapi.Backoff{Base: 500 * time.Millisecond, Max: 5 * time.Second}

// ParseToken reads acquireEncryptedAccessToken's answer: records separated
// by 0x1E, units by 0x1F; record 0 is the lifetime in seconds, record 1's
// first unit the token (OkLine _parse_encrypted_token; beeper/line takes what
// follows the first 0x1E).
func ParseToken(data string) (token string, ttl time.Duration, err error) {
	recs := strings.Split(data, "\x1e")
	if len(recs) < 2 {
		return "", 0, errors.New("acquireEncryptedAccessToken: answer has no token")
	}
	token = strings.Split(recs[1], "\x1f")[0]
	if token == "" {
		return "", 0, errors.New("acquireEncryptedAccessToken: empty token")
	}
	// A lifetime beyond 30 days (or an overflow) is not believed: 0, unknown.
	if s, err := strconv.ParseInt(strings.Split(recs[0], "\x1f")[0], 10, 64); err == nil && s > 0 && s <= 30*86400 {
		ttl = time.Duration(s) * time.Second
	}
	return token, ttl, nil
}
