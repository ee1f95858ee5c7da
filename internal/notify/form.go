package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/linectl/linectl/internal/mediafile"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
)

// maxField bounds one text field of a multipart body.
const maxField = 64 << 10

// Notify's fields.
const (
	fieldMessage              = "message"
	fieldNotificationDisabled = "notificationDisabled"
	fieldStickerPackageID     = "stickerPackageId"
	fieldStickerID            = "stickerId"
	// fieldStickerText is linectl's own: LINE Notify had no field for a
	// sticker's alt text (STKTXT); a Notify client never sends it.
	fieldStickerText    = "stickerText"
	fieldImageFile      = "imageFile"
	fieldImageThumbnail = "imageThumbnail"
	fieldImageFullsize  = "imageFullsize"
)

func isImageField(name string) bool {
	return name == fieldImageFile || name == fieldImageThumbnail || name == fieldImageFullsize
}

// notification is what one POST /api/notify asks to send: the message,
// and a sticker after it when stickerPackageId and stickerId are given.
type notification struct {
	text    string
	sticker *lineapi.Sticker
	image   *delivery.Media // imageFile, or the image imageFullsize names
	// imageURL is imageFullsize, fetched (with --allow-image-urls) after
	// the request was checked.
	imageURL string
}

// MaxStickerText bounds stickerText (linectl's own bound, as send's
// --sticker-text).
const MaxStickerText = 100

// MaxImage bounds an imageFile or a fetched image URL. LINE Notify's own
// limit is not recorded anywhere linectl could find; 10 MiB is linectl's.
const MaxImage = 10 << 20

// imageNameField carries an imageFile part's file name beside its bytes.
const imageNameField = "imageFile\x00name"

// parse reads the body (form-urlencoded or multipart) and returns the
// notification to send, or the 400 (or 413) to answer. Fields Notify did
// not have are ignored, as Notify ignored them; fields linectl cannot
// honour yet (images) are refused, never dropped.
func (s *Server) parse(w http.ResponseWriter, r *http.Request) (notification, *apiError) {
	limit := s.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = ""
	}
	bodyLimit := limit
	count := &countingReader{ReadCloser: r.Body}
	if mt == "multipart/form-data" {
		bodyLimit += MaxImage // an imageFile part; the rest is held to limit
	}
	r.Body = http.MaxBytesReader(w, count, bodyLimit)
	var fields map[string][]string
	var aerr *apiError
	switch {
	case mt == "application/x-www-form-urlencoded":
		fields, aerr = readURLEncoded(r, limit)
	case mt == "multipart/form-data":
		fields, aerr = readMultipart(r, params["boundary"], limit, count)
	case mt == "application/json":
		fields, aerr = readJSON(r, limit)
	case r.ContentLength == 0 && len(r.URL.RawQuery) > 0:
		fields = map[string][]string{} // parameters in the query string only
	default:
		return notification{}, &apiError{http.StatusBadRequest, "Content-Type must be application/x-www-form-urlencoded, multipart/form-data or application/json"}
	}
	if aerr != nil {
		return notification{}, aerr
	}
	// Notify also took its parameters from the query string (scripts that
	// did requests.post(url, params=…) rely on it).
	for k, v := range r.URL.Query() {
		if k == imageNameField || (k == fieldImageFile && fields[imageNameField] != nil) {
			continue // only a multipart file part names (and carries) an imageFile
		}
		fields[k] = append(fields[k], v...)
	}
	return checkFields(fields)
}

// readJSON reads a JSON object body — not something LINE Notify took, but
// what webhook integrations send: Notify's field names, or Grafana's webhook
// ("message") and Uptime Kuma's ("msg", when there is no "message"). Strings,
// numbers and booleans become fields; anything else is ignored.
func readJSON(r *http.Request, limit int64) (map[string][]string, *apiError) {
	var obj map[string]any
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		return nil, &apiError{http.StatusBadRequest, "the body is not a JSON object"}
	}
	out := map[string][]string{}
	for k, v := range obj {
		switch v := v.(type) {
		case string:
			out[k] = []string{v}
		case json.Number:
			out[k] = []string{v.String()}
		case bool:
			out[k] = []string{fmt.Sprint(v)}
		}
	}
	if _, ok := out["message"]; !ok && out["msg"] != nil {
		out["message"] = out["msg"]
	}
	delete(out, "msg")
	return out, nil
}

func tooLarge(limit int64) *apiError {
	return &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body too large: the limit is %d bytes", limit)}
}

func readURLEncoded(r *http.Request, limit int64) (map[string][]string, *apiError) {
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		return nil, &apiError{http.StatusBadRequest, "the body is not valid form-urlencoded data"}
	}
	out := make(map[string][]string, len(r.PostForm))
	for k, v := range r.PostForm {
		out[k] = v
	}
	return out, nil
}

// readMultipart reads the text fields of a multipart body. An image part
// ends the reading at its header: the answer is 400 whatever its size.
func readMultipart(r *http.Request, boundary string, limit int64, count *countingReader) (map[string][]string, *apiError) {
	if boundary == "" {
		return nil, &apiError{http.StatusBadRequest, "multipart/form-data without a boundary"}
	}
	mr := multipart.NewReader(r.Body, boundary)
	fields := map[string][]string{}
	var image int64
	for {
		p, err := mr.NextPart()
		if count.n-image > limit {
			return nil, tooLarge(limit)
		}
		if err == io.EOF {
			return fields, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooLarge(limit)
			}
			return nil, &apiError{http.StatusBadRequest, "the body is not valid multipart/form-data"}
		}
		name := p.FormName()
		if !knownField(name) {
			continue // ignored, as Notify ignored unknown fields (NextPart skips its data)
		}
		max := int64(maxField)
		if name == fieldImageFile {
			if p.FileName() == "" {
				return nil, &apiError{http.StatusBadRequest, "imageFile: must be a file part (filename=…)"}
			}
			max = MaxImage
			fields[imageNameField] = []string{p.FileName()}
		}
		b, err := io.ReadAll(io.LimitReader(p, max+1))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooLarge(limit)
			}
			return nil, &apiError{http.StatusBadRequest, "the body is not valid multipart/form-data"}
		}
		if int64(len(b)) > max {
			return nil, &apiError{http.StatusBadRequest, fmt.Sprintf("%s: longer than %d bytes", name, max)}
		}
		if name == fieldImageFile {
			image += int64(len(b))
		}
		fields[name] = append(fields[name], string(b))
	}
}

func knownField(name string) bool {
	switch name {
	case fieldMessage, fieldNotificationDisabled, fieldStickerPackageID, fieldStickerID, fieldStickerText:
		return true
	}
	return isImageField(name)
}

// checkFields validates Notify's fields and returns the notification.
func checkFields(f map[string][]string) (notification, *apiError) {
	bad := func(format string, a ...any) (notification, *apiError) {
		return notification{}, &apiError{http.StatusBadRequest, fmt.Sprintf(format, a...)}
	}
	for _, name := range []string{fieldMessage, fieldNotificationDisabled, fieldStickerPackageID, fieldStickerID, fieldStickerText,
		fieldImageFile, fieldImageThumbnail, fieldImageFullsize} {
		if len(f[name]) > 1 {
			return bad("%s: given more than once", name)
		}
	}
	if v, ok := f[fieldNotificationDisabled]; ok {
		// Accepted and ignored: a message from a personal account notifies
		// the chat's members by their own settings (see docs/notify.md).
		switch strings.ToLower(strings.TrimSpace(v[0])) {
		case "true", "false":
		default:
			return bad("notificationDisabled: must be true or false (got %q)", v[0])
		}
	}
	msgs, ok := f[fieldMessage]
	if !ok {
		return bad("message: must not be empty")
	}
	msg := msgs[0]
	switch {
	case !utf8.ValidString(msg):
		return bad("message: not valid UTF-8")
	case strings.ContainsRune(msg, 0):
		return bad("message: contains a NUL character")
	case strings.TrimFunc(msg, unicode.IsSpace) == "":
		return bad("message: must not be empty")
	case strings.TrimFunc(msg, isInvisible) == "":
		return bad("message: empty to a reader (only white space and invisible characters)")
	}
	if n := utf8.RuneCountInString(msg); n > MaxMessageLength {
		return bad("message: %d characters; the limit is %d", n, MaxMessageLength)
	}
	n := notification{text: msg}
	pkgs, pkg := f[fieldStickerPackageID]
	ids, id := f[fieldStickerID]
	switch {
	case pkg != id:
		return bad("%s", msgStickerPair)
	case pkg:
		p, ok := stickerNumber(pkgs[0])
		if !ok {
			return bad("stickerPackageId: must be a positive number (got %q)", pkgs[0])
		}
		i, ok := stickerNumber(ids[0])
		if !ok {
			return bad("stickerId: must be a positive number (got %q)", ids[0])
		}
		// Notify had no version field: the default STKVER.
		n.sticker = &lineapi.Sticker{PackageID: p, ID: i, Version: lineapi.DefaultStickerVersion}
	}
	if v, ok := f[fieldStickerText]; ok {
		t := strings.TrimSpace(v[0])
		switch {
		case n.sticker == nil:
			return bad("stickerText: goes with stickerPackageId and stickerId")
		case !utf8.ValidString(t) || strings.IndexFunc(t, unicode.IsControl) >= 0 || strings.TrimFunc(t, isInvisible) == "":
			return bad("stickerText: must be visible text on one line, without control characters")
		case utf8.RuneCountInString(t) > MaxStickerText:
			return bad("stickerText: longer than %d characters", MaxStickerText)
		}
		n.sticker.Text = t
	}
	return checkImage(f, n)
}

// checkImage reads imageFile (a multipart file part) or the URL pair
// imageThumbnail and imageFullsize (Notify took both; the full size is the
// one sent).
func checkImage(f map[string][]string, n notification) (notification, *apiError) {
	bad := func(format string, a ...any) (notification, *apiError) {
		return notification{}, &apiError{http.StatusBadRequest, fmt.Sprintf(format, a...)}
	}
	thumb, hasThumb := f[fieldImageThumbnail]
	full, hasFull := f[fieldImageFullsize]
	img, hasFile := f[fieldImageFile]
	switch {
	case hasFile && (hasThumb || hasFull):
		return bad("give imageFile or imageThumbnail and imageFullsize, not both")
	case hasFile && f[imageNameField] == nil:
		return bad("imageFile: must be a file part of a multipart/form-data body")
	case hasFile:
		md, err := mediafile.FromBytes(f[imageNameField][0], []byte(img[0]))
		if err != nil {
			return bad("imageFile: %v (Notify took PNG and JPEG)", err)
		}
		n.image = md
	case hasThumb != hasFull:
		return bad("imageThumbnail and imageFullsize must be given together")
	case hasFull:
		for _, u := range []string{thumb[0], full[0]} {
			if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
				return bad("imageThumbnail, imageFullsize: must be http(s) URLs")
			}
		}
		n.imageURL = full[0]
	}
	return n, nil
}

// stickerNumber parses a positive decimal id (surrounding white space
// allowed, as form encoders add it).
func stickerNumber(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// isInvisible reports whether r shows nothing on its own (white space,
// controls, format characters, variation selectors, other default-ignorable
// code points, the blank braille pattern), as linectl send counts it.
func isInvisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Variation_Selector,
		unicode.Other_Default_Ignorable_Code_Point) || r == '\u2800'
}

// countingReader counts the bytes read through it.
type countingReader struct {
	io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}
