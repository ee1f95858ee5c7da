package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
)

// Reading and checking what send is given: texts, stickers, flags, --jsonl lines.

// parseSticker reads PKG/ID: two positive decimal numbers (no sign, no
// spaces, no leading zeros beyond a lone digit, within int64).
func parseSticker(s string, version int64) (*lineapi.Sticker, error) {
	pkg, id, ok := strings.Cut(s, "/")
	if !ok {
		return nil, fmt.Errorf("%q: use PKG/ID, the package id and the sticker id (e.g. 446/1988)", s)
	}
	p, err := positiveDecimal(pkg)
	if err != nil {
		return nil, fmt.Errorf("%q: package id: %v", s, err)
	}
	i, err := positiveDecimal(id)
	if err != nil {
		return nil, fmt.Errorf("%q: sticker id: %v", s, err)
	}
	if version <= 0 {
		return nil, fmt.Errorf("version %d: must be a positive number", version)
	}
	return &lineapi.Sticker{PackageID: p, ID: i, Version: version}, nil
}

// maxStickerText bounds --sticker-text: linectl's own (no peer records
// LINE's limit; sticker alt texts are a few words).
const maxStickerText = 100

// stickerExtras checks and sets a sticker's alt text (STKTXT) and option
// (STKOPT); "" leaves one unset (not sent, as the extension's Cb omits it).
func stickerExtras(st *lineapi.Sticker, text, option string) error {
	if text != "" {
		switch {
		case !utf8.ValidString(text):
			return errors.New("sticker text: not valid UTF-8")
		case strings.IndexFunc(text, unicode.IsControl) >= 0:
			return errors.New("sticker text: contains a control character (a line break, a tab, NUL…)")
		case strings.TrimFunc(text, isInvisible) == "":
			return errors.New("sticker text: empty to a reader")
		case utf8.RuneCountInString(text) > maxStickerText:
			return fmt.Errorf("sticker text: %d characters; the limit is %d", utf8.RuneCountInString(text), maxStickerText)
		}
	}
	for _, c := range option {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') || len(option) > 16 {
			return fmt.Errorf("sticker option %q: letters and digits, at most 16 (e.g. A animated, S sound)", option)
		}
	}
	st.Text, st.Option = text, option
	return nil
}

// positiveDecimal parses a positive decimal integer written plainly.
func positiveDecimal(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not a decimal number", s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is too large", s)
	case n == 0:
		return 0, fmt.Errorf("%q: must be positive", s)
	case s[0] == '0':
		return 0, fmt.Errorf("%q: no leading zeros", s)
	}
	return n, nil
}

// Bounds of --confirm-timeout.
const (
	minConfirmTimeout = 100 * time.Millisecond
	maxConfirmTimeout = time.Hour
)

// checkRate validates a sends-per-second value: 0 (no limit) or
// config.MinRate to config.MaxRate; NaN, infinities, negative and tiny
// values (a limiter that never fires, or spins) are refused.
func checkRate(flag string, r float64) error {
	if r == 0 || (r >= config.MinRate && r <= config.MaxRate) {
		return nil
	}
	return usageErrorf("%s %v: use 0 (no limit) or %v to %v sends per second", flag, r, config.MinRate, config.MaxRate)
}

// checkDuration validates a duration flag against its documented range.
func checkDuration(flag string, d, lo, hi time.Duration) error {
	if d < lo || d > hi {
		return usageErrorf("%s %v: must be from %v to %v", flag, d, lo, hi)
	}
	return nil
}

// isInvisible reports whether r shows nothing to a person on its own:
// white space, controls, format characters (unicode.Cf: zero-width space,
// joiners, word joiner, BOM, bidi marks…), variation selectors, other
// default-ignorable code points (Hangul fillers…) and the blank braille
// pattern.
func isInvisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Variation_Selector,
		unicode.Other_Default_Ignorable_Code_Point) || r == '\u2800'
}

// validateText refuses what LINE would show as nothing, or not show as
// sent: invalid UTF-8, NUL anywhere, a text of invisible characters only,
// and a text over MaxTextLength.
func validateText(text string) error {
	if !utf8.ValidString(text) {
		return usageErrorf("the text is not valid UTF-8")
	}
	if strings.ContainsRune(text, 0) {
		return usageErrorf("the text contains a NUL character")
	}
	if strings.TrimFunc(text, isInvisible) == "" {
		if text == "" || strings.TrimFunc(text, unicode.IsSpace) == "" {
			return usageErrorf("the text is empty")
		}
		return usageErrorf("the text is empty to a reader: only white space and invisible (zero-width, format) characters")
	}
	if n := utf16Len(text); n > MaxTextLength {
		return usageErrorf("the text is %d characters long; the limit is %d", n, MaxTextLength)
	}
	return nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += len(utf16.AppendRune(nil, r))
	}
	return n
}

// maxJSONLLine is the longest --jsonl input line read.
const maxJSONLLine = 1 << 20

// readJSONL turns stdin lines into jobs, one per non-blank line; a bad line
// (too long, not JSON, bad MID or text) is a job with an input error.
func readJSONL(ctx context.Context, r io.Reader, jobs chan<- job) {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		raw, tooLong, err := readLine(br, maxJSONLLine)
		var j job
		switch {
		case tooLong:
			j = job{line: n, err: usageErrorf("line %d is longer than %d bytes (1 MiB); not sent", n, maxJSONLLine)}
		case len(strings.TrimSpace(string(raw))) > 0:
			j = parseJSONL(n, strings.TrimSpace(string(raw)))
		case err == nil:
			continue
		}
		if err != nil && err != io.EOF {
			j = job{line: n, err: usageErrorf("line %d: read stdin: %v", n, err)}
		}
		if j.line != 0 {
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// readLine reads one line (without its newline) of at most max bytes; a
// longer line is read to its end and dropped (tooLong). err is io.EOF after
// the last line.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if err == nil {
			chunk = chunk[:len(chunk)-1]
		}
		if !tooLong && len(line)+len(chunk) > max {
			tooLong, line = true, nil
		} else if !tooLong {
			line = append(line, chunk...)
		}
		if err != bufio.ErrBufferFull {
			return line, tooLong, err
		}
	}
}

// parseJSONL turns input line n into a job.
func parseJSONL(n int, line string) (j job) {
	var in struct {
		To             string   `json:"to"`
		Text           *string  `json:"text"`
		Sticker        *string  `json:"sticker"`
		StickerVersion *int64   `json:"stickerVersion"`
		StickerText    *string  `json:"stickerText"`
		StickerOption  *string  `json:"stickerOption"`
		Image          *string  `json:"image"`
		File           *string  `json:"file"`
		Name           *string  `json:"name"`
		ReplyTo        *string  `json:"replyTo"`
		Mentions       []string `json:"mentions"`
	}
	j = job{line: n}
	defer func() {
		if j.err == nil {
			j.replyTo, j.mentions = derefOr(in.ReplyTo), in.Mentions
			if err := checkConversation(j.replyTo, j.mentions, false, j.sticker != nil, j.media != nil); err != nil {
				j.err = usageErrorf("line %d: %v", n, err)
			}
		}
	}()
	if !utf8.ValidString(line) {
		j.err = usageErrorf("line %d: not valid UTF-8", n)
	} else if err := json.Unmarshal([]byte(line), &in); err != nil {
		j.err = usageErrorf("line %d: not a JSON object with to and text (or sticker): %v", n, err)
	} else if _, err := lineapi.ParseMID(in.To); err != nil {
		j.to, j.err = in.To, usageErrorf("line %d: %v", n, err)
	} else if in.Image != nil || in.File != nil || in.Name != nil {
		j.to = in.To
		switch {
		case in.Image == nil && in.File == nil:
			j.err = usageErrorf("line %d: name without image or file", n)
		case in.Text != nil || in.Sticker != nil:
			j.err = usageErrorf("line %d: a line has a text, a sticker, an image or a file: one of them", n)
		default:
			parseJSONLMedia(&j, n, in.Image, in.File, in.Name)
		}
	} else if in.Sticker != nil || in.StickerVersion != nil || in.StickerText != nil || in.StickerOption != nil {
		j.to = in.To
		version := int64(lineapi.DefaultStickerVersion)
		if in.StickerVersion != nil {
			version = *in.StickerVersion
		}
		switch st, err := parseSticker(derefOr(in.Sticker), version); {
		case in.Sticker == nil:
			j.err = usageErrorf("line %d: stickerVersion, stickerText or stickerOption without sticker", n)
		case in.Text != nil:
			j.err = usageErrorf("line %d: a line has text or a sticker, not both (a sticker has no text: its alt text is stickerText)", n)
		case err != nil:
			j.err = usageErrorf("line %d: sticker %v", n, err)
		default:
			if err := stickerExtras(st, derefOr(in.StickerText), derefOr(in.StickerOption)); err != nil {
				j.err = usageErrorf("line %d: %v", n, err)
			} else {
				j.sticker = st
			}
		}
	} else if err := validateText(derefOr(in.Text)); err != nil {
		j.to, j.err = in.To, usageErrorf("line %d: %v", n, err)
	} else {
		j.to, j.text = in.To, *in.Text
	}
	return j
}

func derefOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// readAllContext reads r to its end, or returns ctx's error as soon as ctx
// ends (a read from a terminal does not return on Ctrl-C by itself).
func readAllContext(ctx context.Context, r io.Reader) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(r)
		ch <- result{b, err}
	}()
	select {
	case res := <-ch:
		return res.b, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
