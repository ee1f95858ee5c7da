package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// fakeLine is an in-memory LINE for a Sender: Gateway, MediaGateway,
// Finder and Uploader at once. It stores what it is sent (no
// deduplication), answers each sendMessage as its script says, and records
// every call a user could count.
type fakeLine struct {
	mu sync.Mutex

	probeAnswers []*lineapi.Probe // successive ProbeE2EE answers; the last repeats
	probeErr     error
	flow         *lineapi.MediaFlow // determineMediaMessageFlow's answer
	flowErr      error
	answers      []answer // per sendMessage; missing: stored, answered with an id
	revErr       error
	findErr      error
	uploadErr    map[string]error // by path prefix
	noOID        bool             // a sealed upload answered without x-obs-oid

	probes, flows int
	sent          []lineapi.OutgoingMessage
	seqs          []int64
	stored        map[int64]string // reqSeq → message id
	uploads       []upload
}

// answer is how fakeLine answers one sendMessage.
type answer struct {
	err    error // nil: stored and answered
	commit bool  // stored although err is set (or no id answered)
	noID   bool  // a success answer without the message's id
}

type upload struct {
	path string
	p    obs.Params
	size int64
}

func (f *fakeLine) SendMessage(_ context.Context, reqSeq int64, m lineapi.OutgoingMessage) (*lineapi.SentMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var a answer
	if i := len(f.sent); i < len(f.answers) {
		a = f.answers[i]
	}
	f.sent, f.seqs = append(f.sent, m), append(f.seqs, reqSeq)
	id := fmt.Sprintf("srv-%d", len(f.sent))
	if f.stored == nil {
		f.stored = map[int64]string{}
	}
	if a.err == nil && !a.noID || a.commit {
		f.stored[reqSeq] = id
	}
	switch {
	case a.err != nil:
		return nil, a.err
	case a.noID:
		return &lineapi.SentMessage{}, nil
	}
	return &lineapi.SentMessage{ID: id, CreatedTime: 7}, nil
}

func (f *fakeLine) ProbeE2EE(_ context.Context, mid string) (*lineapi.Probe, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.probes++
	if f.probeErr != nil {
		return nil, f.probeErr
	}
	i := min(f.probes, len(f.probeAnswers)) - 1
	if i < 0 {
		return &lineapi.Probe{MID: mid, SpecVersion: -1, Reason: "member settings off"}, nil
	}
	return f.probeAnswers[i], nil
}

func (f *fakeLine) GetLastOpRevision(context.Context) (int64, error) {
	if f.revErr != nil {
		return 0, f.revErr
	}
	return 100, nil
}

func (f *fakeLine) DetermineMediaMessageFlow(_ context.Context, chat string) (*lineapi.MediaFlow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flows++
	if f.flowErr != nil {
		return nil, f.flowErr
	}
	if f.flow == nil {
		return &lineapi.MediaFlow{}, nil
	}
	return f.flow, nil
}

func (f *fakeLine) FindSends(_ context.Context, _ int64, seqs []int64) (map[int64]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.findErr != nil {
		return nil, f.findErr
	}
	out := map[int64]string{}
	for _, s := range seqs {
		if id, ok := f.stored[s]; ok {
			out[s] = id
		}
	}
	return out, nil
}

func (f *fakeLine) Upload(_ context.Context, path string, p obs.Params, src obs.Source) (string, error) {
	rc, err := src.Open()
	if err != nil {
		return "", err
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploads = append(f.uploads, upload{path, p, n})
	for prefix, err := range f.uploadErr {
		if strings.HasPrefix(path, prefix) {
			return "", err
		}
	}
	if f.noOID {
		return "", nil
	}
	return "oid-1", nil
}

// sealer seals by setting Chunks, fails as scripted, and records Forget.
type sealer struct {
	fail   []error // per Seal call; missing: seals
	seals  int
	forgot []string // "mid recreate"
}

func (s *sealer) Seal(_ context.Context, p *lineapi.Probe, m *lineapi.OutgoingMessage) (int, error) {
	i := s.seals
	s.seals++
	if i < len(s.fail) && s.fail[i] != nil {
		return 0, s.fail[i]
	}
	m.Chunks, m.Text = []string{"sealed"}, ""
	return p.SpecVersion, nil
}

func (s *sealer) Forget(to string, recreate bool) {
	s.forgot = append(s.forgot, fmt.Sprintf("%s %v", to, recreate))
}

// memCache is a ProbeCache and MediaFlowCache in memory.
type memCache struct {
	probes map[string]*lineapi.Probe
	flows  map[string]*lineapi.MediaFlow
}

func newCache() *memCache {
	return &memCache{probes: map[string]*lineapi.Probe{}, flows: map[string]*lineapi.MediaFlow{}}
}
func (c *memCache) Probe(mid string) (*lineapi.Probe, bool) { p, ok := c.probes[mid]; return p, ok }
func (c *memCache) SetProbe(mid string, p *lineapi.Probe)   { c.probes[mid] = p }
func (c *memCache) DropProbe(mid string)                    { delete(c.probes, mid) }
func (c *memCache) MediaFlow(mid string) (*lineapi.MediaFlow, bool) {
	f, ok := c.flows[mid]
	return f, ok
}
func (c *memCache) SetMediaFlow(mid string, f *lineapi.MediaFlow) { c.flows[mid] = f }

type limiterFunc func(context.Context) error

func (l limiterFunc) Wait(ctx context.Context) error { return l(ctx) }

func talk(code int) error { return &lineapi.TalkError{Name: lineapi.ExceptionTalk, Code: code} }

var (
	plainChat   = &lineapi.Probe{MID: group, ToType: lineapi.ToGroup, SpecVersion: -1, Reason: "member settings off"}
	sealedChat  = &lineapi.Probe{MID: group, ToType: lineapi.ToGroup, Usable: true, SpecVersion: 2, AllowedTypes: []int{0, 1, 14}, GroupKey: &lineapi.GroupSharedKey{GroupKeyID: 5}}
	textOnly    = &lineapi.Probe{MID: group, ToType: lineapi.ToGroup, Usable: true, SpecVersion: 2, AllowedTypes: []int{0}, GroupKey: &lineapi.GroupSharedKey{GroupKeyID: 5}}
	noTextChat  = &lineapi.Probe{MID: group, ToType: lineapi.ToGroup, Usable: true, SpecVersion: 2, AllowedTypes: []int{15}, GroupKey: &lineapi.GroupSharedKey{GroupKeyID: 5}}
	stickerSeal = &lineapi.Probe{MID: group, ToType: lineapi.ToGroup, Usable: true, SpecVersion: 2, AllowedTypes: []int{0, 7}, GroupKey: &lineapi.GroupSharedKey{GroupKeyID: 5}}
	noGroupKey  = &lineapi.Probe{MID: group, ToType: lineapi.ToGroup, Usable: true, SpecVersion: 2}
)

// sealedOf reports, per sendMessage, whether the message went sealed.
func sealedOf(f *fakeLine) []bool {
	out := make([]bool, len(f.sent))
	for i, m := range f.sent {
		out[i] = m.Chunks != nil
	}
	return out
}

func checkErr(t *testing.T, err, want error, text string) {
	t.Helper()
	if want == nil && text == "" && err != nil {
		t.Fatalf("err = %v, want none", err)
	}
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if text != "" && (err == nil || !strings.Contains(err.Error(), text)) {
		t.Fatalf("err = %v, want one saying %q", err, text)
	}
}

// Every way a text or sticker send is refused and sealed again, settled or
// given up: what a user counts is how many sendMessage calls went out, which
// were sealed, under which reqSeq, and the error.
func TestResealing(t *testing.T) {
	sticker := &lineapi.Sticker{PackageID: 1, ID: 2, Version: 1, Text: "[OK]"}
	for _, tc := range []struct {
		name     string
		mode     string // "": auto
		to       string // "": group
		content  Content
		cached   *lineapi.Probe // the probe cache's entry (a cache is used when set)
		probes   []*lineapi.Probe
		answers  []answer
		sealErrs []error
		setup    func(*Sender, *fakeLine)

		sends      []bool // per sendMessage: sealed
		probeCalls int
		forgot     []string
		err        error
		errText    string
		resolved   bool
		check      func(*testing.T, *fakeLine, *Result)
	}{
		{name: "plain chat: one plain send", probes: []*lineapi.Probe{plainChat}, sends: []bool{false}, probeCalls: 1},
		{name: "sealed chat: one sealed send", probes: []*lineapi.Probe{sealedChat}, sends: []bool{true}, probeCalls: 1},
		{name: "82 after a fresh probe: not sent again, Letter Sealing needed",
			probes: []*lineapi.Probe{plainChat}, answers: []answer{{err: talk(82)}},
			sends: []bool{false}, probeCalls: 1, err: ErrNeedsE2EE, errText: "refused the plain message"},
		{name: "82 after a cached plain probe: probed again, sealed, same reqSeq",
			cached: plainChat, probes: []*lineapi.Probe{sealedChat}, answers: []answer{{err: talk(82)}},
			sends: []bool{false, true}, probeCalls: 1},
		{name: "82 twice after a cached probe: once more, never twice",
			cached: plainChat, probes: []*lineapi.Probe{plainChat}, answers: []answer{{err: talk(82)}, {err: talk(82)}},
			sends: []bool{false, false}, probeCalls: 1, err: ErrNeedsE2EE},
		{name: "83 sender key changed: keys forgotten, probed again, resealed",
			probes: []*lineapi.Probe{sealedChat}, answers: []answer{{err: talk(83)}},
			sends: []bool{true, true}, probeCalls: 2, forgot: []string{group + " false"}},
		{name: "84 receiver key changed: keys forgotten, probed again, resealed",
			probes: []*lineapi.Probe{sealedChat}, answers: []answer{{err: talk(84)}},
			sends: []bool{true, true}, probeCalls: 2, forgot: []string{group + " false"}},
		{name: "99 recreate the group key: the group key forgotten, resealed",
			probes: []*lineapi.Probe{sealedChat}, answers: []answer{{err: talk(99)}},
			sends: []bool{true, true}, probeCalls: 2, forgot: []string{group + " true"}},
		{name: "83 twice: resealed once, then the error",
			probes: []*lineapi.Probe{sealedChat}, answers: []answer{{err: talk(83)}, {err: talk(83)}},
			sends: []bool{true, true}, probeCalls: 2, forgot: []string{group + " false"}, err: lineapi.ErrE2EEUpdateSenderKey},
		{name: "84 after a cached sealed probe: one fresh probe, resealed",
			cached: sealedChat, probes: []*lineapi.Probe{sealedChat}, answers: []answer{{err: talk(84)}},
			sends: []bool{true, true}, probeCalls: 1, forgot: []string{group + " false"}},
		{name: "83 to a plain message after a fresh probe: not resealed",
			probes: []*lineapi.Probe{plainChat}, answers: []answer{{err: talk(83)}},
			sends: []bool{false}, probeCalls: 1, err: lineapi.ErrE2EEUpdateSenderKey},
		{name: "89 after a cached probe: probed again, sent once more",
			cached: plainChat, probes: []*lineapi.Probe{plainChat}, answers: []answer{{err: talk(89)}},
			sends: []bool{false, false}, probeCalls: 1},
		{name: "not a member after a cached probe: probed once more, then the error",
			cached: plainChat, probes: []*lineapi.Probe{plainChat}, answers: []answer{{err: talk(10)}, {err: talk(10)}},
			sends: []bool{false, false}, probeCalls: 1, err: lineapi.ErrNotAMember},
		{name: "not a member after a fresh probe: the error, nothing more",
			probes: []*lineapi.Probe{plainChat}, answers: []answer{{err: talk(10)}},
			sends: []bool{false}, probeCalls: 1, err: lineapi.ErrNotAMember},
		{name: "a cached sealed probe that no longer seals: probed afresh before sending",
			cached: sealedChat, probes: []*lineapi.Probe{sealedChat}, sealErrs: []error{errors.New("no such key")},
			sends: []bool{true}, probeCalls: 1},
		{name: "cannot seal after a fresh probe: nothing sent",
			probes: []*lineapi.Probe{sealedChat}, sealErrs: []error{errors.New("no such key")},
			probeCalls: 1, err: ErrNeedsE2EE, errText: "cannot seal"},
		{name: "sealing meets a temporary failure: nothing sent, not an E2EE refusal",
			probes: []*lineapi.Probe{sealedChat}, sealErrs: []error{notWritten},
			probeCalls: 1, err: notWritten, errText: "Letter Sealing: "},
		{name: "outcome unknown, on the stream: sent, not sent again",
			probes: []*lineapi.Probe{plainChat}, answers: []answer{{err: dropped, commit: true}},
			sends: []bool{false}, probeCalls: 1, resolved: true},
		{name: "outcome unknown, not on the stream: exit 6, not sent again",
			probes: []*lineapi.Probe{plainChat}, answers: []answer{{err: dropped}},
			sends: []bool{false}, probeCalls: 1, err: ErrOutcomeUnknown, errText: "not on the operation stream"},
		{name: "outcome unknown, the stream unreachable: exit 6",
			probes: []*lineapi.Probe{plainChat}, answers: []answer{{err: dropped, commit: true}},
			setup: func(s *Sender, f *fakeLine) { f.findErr = errors.New("stream down") },
			sends: []bool{false}, probeCalls: 1, err: ErrOutcomeUnknown, errText: "could not be searched: stream down"},
		{name: "outcome unknown, no stream to search: exit 6",
			probes: []*lineapi.Probe{plainChat}, answers: []answer{{err: dropped, commit: true}},
			setup: func(s *Sender, f *fakeLine) { s.Finder = nil },
			sends: []bool{false}, probeCalls: 1, err: ErrOutcomeUnknown, errText: "no operation stream"},
		{name: "no message id in the answer, stored: settled from the stream",
			probes: []*lineapi.Probe{plainChat}, answers: []answer{{noID: true, commit: true}},
			sends: []bool{false}, probeCalls: 1, resolved: true},
		{name: "no message id in the answer, not found: exit 6",
			probes: []*lineapi.Probe{plainChat}, answers: []answer{{noID: true}},
			sends: []bool{false}, probeCalls: 1, err: ErrOutcomeUnknown, errText: "without the message's id"},
		{name: "a 503 (nothing processed): the error, not sent again",
			probes: []*lineapi.Probe{plainChat}, answers: []answer{{err: &lineapi.GatewayError{HTTPStatus: 503}}},
			sends: []bool{false}, probeCalls: 1, errText: "503"},
		{name: "require, plain chat: refused, nothing sent", mode: E2EERequire,
			probes: []*lineapi.Probe{plainChat}, probeCalls: 1, err: ErrSealingImpossible},
		{name: "require, text not among allowedTypes: refused, nothing sent", mode: E2EERequire,
			probes: []*lineapi.Probe{noTextChat}, probeCalls: 1, err: ErrSealingImpossible},
		{name: "auto, text not among allowedTypes: plain, as the extension", probes: []*lineapi.Probe{noTextChat},
			sends: []bool{false}, probeCalls: 1},
		{name: "require, sealed chat: sealed", mode: E2EERequire, probes: []*lineapi.Probe{sealedChat},
			sends: []bool{true}, probeCalls: 1},
		{name: "off: no probe, plain where LINE could seal", mode: E2EEOff, probes: []*lineapi.Probe{sealedChat},
			sends: []bool{false}},
		{name: "off, 82: Letter Sealing needed, not sent again", mode: E2EEOff, answers: []answer{{err: talk(82)}},
			sends: []bool{false}, err: ErrNeedsE2EE},
		{name: "sealed chat, no keys in this config: nothing sent",
			probes: []*lineapi.Probe{sealedChat}, setup: func(s *Sender, _ *fakeLine) { s.Encrypter = nil },
			probeCalls: 1, err: ErrNeedsE2EE, errText: "no Letter Sealing keys"},
		{name: "sticker where LINE asks stickers sealed: refused, nothing sent", content: Sticker{Sticker: *sticker},
			probes: []*lineapi.Probe{stickerSeal}, probeCalls: 1, err: ErrStickerSealing},
		{name: "sticker to a group without a key yet: plain", content: Sticker{Sticker: *sticker},
			probes: []*lineapi.Probe{noGroupKey}, sends: []bool{false}, probeCalls: 1,
			check: func(t *testing.T, f *fakeLine, r *Result) {
				if m := f.sent[0]; m.ContentType != lineapi.ContentSticker || m.Text != "" || m.ContentMetadata["STKID"] != "2" {
					t.Fatalf("sent %+v", m)
				}
			}},
		{name: "sticker where allowedTypes lists text only: plain", content: Sticker{Sticker: *sticker},
			probes: []*lineapi.Probe{textOnly}, sends: []bool{false}, probeCalls: 1},
		{name: "reply and mention stay in clear when sealed",
			content: Reply{To: "m-1", Content: Text{Text: "hi @bob", Mention: `{"MENTIONEES":[]}`}},
			probes:  []*lineapi.Probe{sealedChat}, sends: []bool{true}, probeCalls: 1,
			check: func(t *testing.T, f *fakeLine, r *Result) {
				m := f.sent[0]
				if m.RelatedMessageID != "m-1" || m.ContentMetadata["MENTION"] == "" || m.Text != "" || r.ReplyTo != "m-1" || r.Mention == "" {
					t.Fatalf("sent %+v, result %+v", m, r)
				}
			}},
		{name: "a user: probed and sent plain", to: user, probes: []*lineapi.Probe{{MID: user, SpecVersion: -1}},
			sends: []bool{false}, probeCalls: 1,
			check: func(t *testing.T, f *fakeLine, r *Result) {
				if r.ToType != lineapi.ToUser || f.sent[0].To != user {
					t.Fatalf("result %+v", r)
				}
			}},
		{name: "the probe fails: nothing sent", setup: func(_ *Sender, f *fakeLine) { f.probeErr = notWritten },
			probeCalls: 1, err: notWritten, errText: "Letter Sealing probe"},
		{name: "getLastOpRevision fails: nothing sent", probes: []*lineapi.Probe{plainChat},
			setup: func(_ *Sender, f *fakeLine) { f.revErr = errors.New("rev down") }, probeCalls: 1, errText: "rev down"},
		{name: "the rate limiter gives up: nothing sent", probes: []*lineapi.Probe{plainChat},
			setup: func(s *Sender, _ *fakeLine) {
				s.Limiter = limiterFunc(func(context.Context) error { return context.Canceled })
			}, probeCalls: 1, err: context.Canceled},
		{name: "an image as a reply: refused before anything", content: Reply{To: "m-1", Content: &Media{ContentType: lineapi.ContentImage}}, errText: "a reply is a text or a sticker"},
		{name: "no content: refused before anything", content: nilContent{}, errText: "no message to send"},
		{name: "not a chat id: refused before anything", to: "nobody", errText: "malformed MID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeLine{probeAnswers: tc.probes, answers: tc.answers}
			enc := &sealer{fail: tc.sealErrs}
			s := &Sender{GW: f, Finder: f, From: user, E2EE: tc.mode, Encrypter: enc}
			if s.E2EE == "" {
				s.E2EE = E2EEAuto
			}
			var cache *memCache
			if tc.cached != nil {
				cache = newCache()
				cache.probes[group] = tc.cached
				s.Probes = cache
			}
			if tc.setup != nil {
				tc.setup(s, f)
			}
			to := tc.to
			if to == "" {
				to = group
			}
			var c Content = Text{Text: "hi"}
			if tc.content != nil {
				c = tc.content
			}
			if _, ok := c.(nilContent); ok {
				c = nil
			}
			r, err := s.SendMessage(context.Background(), to, c)
			checkErr(t, err, tc.err, tc.errText)
			if got := sealedOf(f); fmt.Sprint(got) != fmt.Sprint(append([]bool{}, tc.sends...)) {
				t.Fatalf("sendMessage calls sealed %v, want %v", got, tc.sends)
			}
			for _, seq := range f.seqs {
				if seq != f.seqs[0] {
					t.Fatalf("sent again under another reqSeq: %v", f.seqs)
				}
			}
			if f.probes != tc.probeCalls {
				t.Fatalf("%d probes, want %d", f.probes, tc.probeCalls)
			}
			if fmt.Sprint(enc.forgot) != fmt.Sprint(tc.forgot) {
				t.Fatalf("forgot %v, want %v", enc.forgot, tc.forgot)
			}
			if err == nil {
				want := f.stored[r.ReqSeq]
				if len(f.stored) != 1 || r.MessageID != want || r.Resolved != tc.resolved || r.E2EE != tc.sends[len(tc.sends)-1] {
					t.Fatalf("result %+v; stored %v", r, f.stored)
				}
				if r.E2EE && r.SpecVersion != 2 {
					t.Fatalf("spec version %d", r.SpecVersion)
				}
			}
			if cache != nil && err == nil {
				if p, ok := cache.probes[group]; !ok || tc.probeCalls > 0 && p != tc.probes[len(tc.probes)-1] {
					t.Fatalf("cache holds %+v after a fresh probe", p)
				}
			}
			if tc.check != nil {
				tc.check(t, f, r)
			}
		})
	}
}

// fileMedia and imageMedia are a 5-byte file and image to send.
func fileMedia() *Media {
	return &Media{ContentType: lineapi.ContentFile, Name: "notes.txt", Source: obs.BytesSource([]byte("hello"))}
}

func imageMedia() *Media {
	return &Media{ContentType: lineapi.ContentImage, Name: "cat.png", Source: obs.BytesSource([]byte("image")),
		Metadata: map[string]string{"MEDIA_CONTENT_INFO": `{"category":"original"}`, "MEDIA_THUMB_INFO": "{}"},
		Preview:  func() []byte { return []byte("jpeg") }}
}

func flowOf(contentType, flow int) *lineapi.MediaFlow {
	return &lineapi.MediaFlow{FlowMap: map[string]int{fmt.Sprint(contentType): flow}}
}

// Images and files: sealed only where the chat's flowMap says sealed and
// the probe allows the type; a cached flow LINE refuses is asked once more;
// a plain message whose upload fails is reported with its id, never resent.
func TestMediaFlows(t *testing.T) {
	for _, tc := range []struct {
		name        string
		mode        string
		media       func() *Media
		flow        *lineapi.MediaFlow
		cachedFlow  *lineapi.MediaFlow // a cache is used when set
		probes      []*lineapi.Probe
		answers     []answer
		setup       func(*Sender, *fakeLine)
		sends       []bool
		flowCalls   int
		uploads     []string // upload paths, in order (the sealed id is oid-1)
		pending     bool     // Pending was told the message id
		err         error
		errText     string
		uploadError bool // an UploadError with the message id
		check       func(*testing.T, *fakeLine, *Result)
	}{
		{name: "file, flowMap plain: sent plain, then uploaded to its id", media: fileMedia,
			flow: flowOf(14, lineapi.FlowPlain), sends: []bool{false}, flowCalls: 1, uploads: []string{"/r/talk/m/srv-1"}, pending: true,
			check: func(t *testing.T, f *fakeLine, r *Result) {
				m := f.sent[0].ContentMetadata
				if m["FILE_NAME"] != "notes.txt" || m["FILE_SIZE"] != "5" || f.uploads[0].p != (obs.Params{Name: "notes.txt", Type: obs.TypeFile}) {
					t.Fatalf("metadata %v, upload %+v", m, f.uploads[0])
				}
				if r.Object != "/r/talk/m/srv-1" || r.FileName != "notes.txt" || r.FileSize != 5 || f.probes != 0 {
					t.Fatalf("result %+v, %d probes", r, f.probes)
				}
			}},
		{name: "file, type not in flowMap: plain", media: fileMedia, flow: flowOf(1, lineapi.FlowSealed),
			sends: []bool{false}, flowCalls: 1, uploads: []string{"/r/talk/m/srv-1"}, pending: true},
		{name: "image, flowMap plain: plain, MEDIA_CONTENT_INFO only, an original", media: imageMedia,
			flow: flowOf(1, lineapi.FlowPlain), sends: []bool{false}, flowCalls: 1, uploads: []string{"/r/talk/m/srv-1"}, pending: true,
			check: func(t *testing.T, f *fakeLine, r *Result) {
				m := f.sent[0].ContentMetadata
				if len(m) != 1 || m["MEDIA_CONTENT_INFO"] == "" || f.uploads[0].p.Cat != "original" || f.uploads[0].p.Type != obs.TypeImage {
					t.Fatalf("metadata %v, upload %+v", m, f.uploads[0])
				}
			}},
		{name: "file, flowMap sealed, probe allows it: uploaded sealed, then one sealed send", media: fileMedia,
			flow: flowOf(14, lineapi.FlowSealed), probes: []*lineapi.Probe{sealedChat}, sends: []bool{true}, flowCalls: 1,
			uploads: []string{"/r/talk/emf/"},
			check: func(t *testing.T, f *fakeLine, r *Result) {
				m := f.sent[0]
				if m.ContentMetadata["SID"] != "emf" || m.ContentMetadata["OID"] != "oid-1" || m.ContentMetadata["FILE_SIZE"] != "5" ||
					m.ContentMetadata["FILE_NAME"] != "" || !strings.Contains(string(m.SealedPayload), `"fileName":"notes.txt"`) {
					t.Fatalf("sent %+v", m)
				}
				if u := f.uploads[0]; u.p.Type != obs.TypeFile || u.p.Name != SealedUploadName(r0) || u.size != obs.EncryptedSize(5) {
					t.Fatalf("upload %+v", u)
				}
				if r.Object != "/r/talk/emf/oid-1" || !r.E2EE {
					t.Fatalf("result %+v", r)
				}
			}},
		{name: "image, sealed: the preview uploaded beside it", media: imageMedia,
			flow: flowOf(1, lineapi.FlowSealed), probes: []*lineapi.Probe{sealedChat}, sends: []bool{true}, flowCalls: 1,
			uploads: []string{"/r/talk/emi/", "/r/talk/emi/oid-1__ud-preview"},
			check: func(t *testing.T, f *fakeLine, r *Result) {
				if m := f.sent[0].ContentMetadata; m["MEDIA_THUMB_INFO"] == "" || m["SID"] != "emi" {
					t.Fatalf("metadata %v", m)
				}
			}},
		{name: "flowMap sealed, no key: plain", media: fileMedia,
			flow: flowOf(14, lineapi.FlowSealed), probes: []*lineapi.Probe{plainChat}, sends: []bool{false}, flowCalls: 1,
			uploads: []string{"/r/talk/m/srv-1"}, pending: true},
		{name: "flowMap sealed, allowedTypes lacks it: plain", media: fileMedia,
			flow: flowOf(14, lineapi.FlowSealed), probes: []*lineapi.Probe{textOnly}, sends: []bool{false}, flowCalls: 1,
			uploads: []string{"/r/talk/m/srv-1"}, pending: true},
		{name: "require, flowMap plain: refused, nothing sent or uploaded", mode: E2EERequire, media: fileMedia,
			flow: flowOf(14, lineapi.FlowPlain), flowCalls: 1, err: ErrSealingImpossible, errText: "determineMediaMessageFlow"},
		{name: "require, no key: refused, nothing sent or uploaded", mode: E2EERequire, media: fileMedia,
			flow: flowOf(14, lineapi.FlowSealed), probes: []*lineapi.Probe{plainChat}, flowCalls: 1, err: ErrSealingImpossible},
		{name: "require, sealed: sealed", mode: E2EERequire, media: fileMedia,
			flow: flowOf(14, lineapi.FlowSealed), probes: []*lineapi.Probe{sealedChat}, sends: []bool{true}, flowCalls: 1,
			uploads: []string{"/r/talk/emf/"}},
		{name: "off: no flow asked, no probe, plain", mode: E2EEOff, media: fileMedia,
			flow: flowOf(14, lineapi.FlowSealed), probes: []*lineapi.Probe{sealedChat}, sends: []bool{false},
			uploads: []string{"/r/talk/m/srv-1"}, pending: true},
		{name: "cached flow plain, LINE says 82: asked again, sealed", media: fileMedia,
			cachedFlow: flowOf(14, lineapi.FlowPlain), flow: flowOf(14, lineapi.FlowSealed), probes: []*lineapi.Probe{sealedChat},
			answers: []answer{{err: talk(82)}}, sends: []bool{false, true}, flowCalls: 1, uploads: []string{"/r/talk/emf/"}},
		{name: "cached flow plain, 82 twice: asked again once, never twice", media: fileMedia,
			cachedFlow: flowOf(14, lineapi.FlowPlain), flow: flowOf(14, lineapi.FlowPlain),
			answers: []answer{{err: talk(82)}, {err: talk(82)}}, sends: []bool{false, false}, flowCalls: 1, err: ErrNeedsE2EE},
		{name: "a fresh flow plain, 82: not sent again", media: fileMedia,
			flow: flowOf(14, lineapi.FlowPlain), answers: []answer{{err: talk(82)}}, sends: []bool{false}, flowCalls: 1, err: ErrNeedsE2EE},
		{name: "cached flow, a plain send's outcome unknown: not asked again, not uploaded", media: fileMedia,
			cachedFlow: flowOf(14, lineapi.FlowPlain), answers: []answer{{err: dropped}}, sends: []bool{false}, err: ErrOutcomeUnknown},
		// 98 (send plain) to a sealed message whose probe was cached: the
		// send resealed once on a fresh probe (deliver's rule), refused
		// again, then the flow asked afresh (sendMedia's rule): plain.
		{name: "cached flow sealed, LINE wants it plain now: probed once more, then the flow asked once more", media: fileMedia,
			cachedFlow: flowOf(14, lineapi.FlowSealed), flow: flowOf(14, lineapi.FlowPlain), probes: []*lineapi.Probe{sealedChat},
			answers: []answer{{err: talk(98)}, {err: talk(98)}}, sends: []bool{true, true, false}, flowCalls: 1,
			uploads: []string{"/r/talk/emf/", "/r/talk/m/srv-3"}, pending: true},
		{name: "plain message stored, upload fails: UploadError with its id, never resent", media: fileMedia,
			flow: flowOf(14, lineapi.FlowPlain), setup: func(_ *Sender, f *fakeLine) {
				f.uploadErr = map[string]error{"/r/talk/m/": errors.New("obs 500")}
			}, sends: []bool{false}, flowCalls: 1, uploads: []string{"/r/talk/m/srv-1"}, pending: true,
			err: ErrUploadFailed, errText: "obs 500", uploadError: true},
		{name: "sealed upload fails: nothing sent", media: fileMedia,
			flow: flowOf(14, lineapi.FlowSealed), probes: []*lineapi.Probe{sealedChat}, setup: func(_ *Sender, f *fakeLine) {
				f.uploadErr = map[string]error{"/r/talk/emf/": errors.New("obs 500")}
			}, flowCalls: 1, uploads: []string{"/r/talk/emf/"}, errText: "nothing was sent"},
		{name: "sealed upload without an object id: nothing sent", media: fileMedia,
			flow: flowOf(14, lineapi.FlowSealed), probes: []*lineapi.Probe{sealedChat},
			setup: func(_ *Sender, f *fakeLine) { f.noOID = true }, flowCalls: 1, uploads: []string{"/r/talk/emf/"}, err: obs.ErrNoOID},
		{name: "determineMediaMessageFlow fails: nothing sent", media: fileMedia,
			setup: func(_ *Sender, f *fakeLine) { f.flowErr = notWritten }, flowCalls: 1, err: notWritten, errText: "determineMediaMessageFlow"},
		{name: "the probe fails: nothing sent", media: fileMedia, flow: flowOf(14, lineapi.FlowSealed),
			setup: func(_ *Sender, f *fakeLine) { f.probeErr = notWritten }, flowCalls: 1, err: notWritten},
		{name: "no object storage: refused before anything", media: fileMedia,
			setup: func(s *Sender, _ *fakeLine) { s.Uploader = nil }, errText: "cannot send media"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeLine{probeAnswers: tc.probes, answers: tc.answers, flow: tc.flow}
			var pending []string
			s := &Sender{GW: f, Finder: f, Uploader: f, From: user, E2EE: tc.mode, Encrypter: &sealer{},
				Now: func() time.Time { return r0 }, Pending: func(r *Result) { pending = append(pending, r.MessageID) }}
			if s.E2EE == "" {
				s.E2EE = E2EEAuto
			}
			if tc.cachedFlow != nil {
				c := newCache()
				c.flows[group] = tc.cachedFlow
				s.Probes = c
			}
			if tc.setup != nil {
				tc.setup(s, f)
			}
			r, err := s.SendMessage(context.Background(), group, tc.media())
			checkErr(t, err, tc.err, tc.errText)
			if got := sealedOf(f); fmt.Sprint(got) != fmt.Sprint(append([]bool{}, tc.sends...)) {
				t.Fatalf("sendMessage calls sealed %v, want %v", got, tc.sends)
			}
			if f.flows != tc.flowCalls {
				t.Fatalf("%d determineMediaMessageFlow calls, want %d", f.flows, tc.flowCalls)
			}
			if len(f.uploads) != len(tc.uploads) {
				t.Fatalf("uploads %+v, want %v", f.uploads, tc.uploads)
			}
			for i, u := range f.uploads {
				if !strings.HasPrefix(u.path, tc.uploads[i]) {
					t.Fatalf("upload %d to %s, want %s…", i, u.path, tc.uploads[i])
				}
			}
			if tc.pending != (len(pending) == 1) || tc.pending && pending[0] != f.stored[f.seqs[len(f.seqs)-1]] {
				t.Fatalf("pending %v", pending)
			}
			var ue *UploadError
			if errors.As(err, &ue) != tc.uploadError || tc.uploadError && (ue.MessageID != "srv-1" || r.MessageID != "srv-1") {
				t.Fatalf("err %v (%T)", err, err)
			}
			if err == nil && (len(f.stored) != 1 || r.MessageID == "" || r.ContentType != tc.media().ContentType) {
				t.Fatalf("result %+v, stored %v", r, f.stored)
			}
			if tc.check != nil {
				tc.check(t, f, r)
			}
		})
	}
}

// A preview started early (StartPreview) is stopped when the flow is plain
// (no preview is uploaded), and left to finish when it is sealed.
func TestPlainImageStopsItsPreview(t *testing.T) {
	for _, sealed := range []bool{false, true} {
		flow, probes := flowOf(1, lineapi.FlowPlain), []*lineapi.Probe(nil)
		if sealed {
			flow, probes = flowOf(1, lineapi.FlowSealed), []*lineapi.Probe{sealedChat}
		}
		f := &fakeLine{flow: flow, probeAnswers: probes}
		s := &Sender{GW: f, Finder: f, Uploader: f, From: user, E2EE: E2EEAuto, Encrypter: &sealer{}, Now: func() time.Time { return r0 }}
		md, stops := imageMedia(), 0
		md.StopPreview = func() { stops++ }
		if _, err := s.SendMessage(context.Background(), group, md); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 1, true: 0}[sealed]; stops != want {
			t.Fatalf("sealed %v: %d stops, want %d", sealed, stops, want)
		}
	}
}

var r0 = time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)

// UploadPlain, used again after an UploadError, sends no message: one
// upload to the message's path, typed as the extension types it.
func TestUploadPlain(t *testing.T) {
	for _, tc := range []struct {
		media func() *Media
		want  obs.Params
	}{
		{fileMedia, obs.Params{Name: "notes.txt", Type: obs.TypeFile}},
		{imageMedia, obs.Params{Name: "cat.png", Type: obs.TypeImage, Cat: "original"}},
	} {
		f := &fakeLine{}
		path, err := UploadPlain(context.Background(), f, "m-9", tc.media())
		if err != nil || path != "/r/talk/m/m-9" || len(f.uploads) != 1 || f.uploads[0].p != tc.want || len(f.sent) != 0 {
			t.Fatalf("path %s, err %v, uploads %+v, sends %d", path, err, f.uploads, len(f.sent))
		}
	}
	f := &fakeLine{uploadErr: map[string]error{"/": errors.New("obs down")}}
	if _, err := UploadPlain(context.Background(), f, "m-9", fileMedia()); err == nil {
		t.Fatal("no error")
	}
	if SealedUploadName(r0) != "1767323045006" {
		t.Fatalf("sealed upload name %s", SealedUploadName(r0))
	}
}

// Prefetch probes each chat the cache lacks, caches what may be cached (not
// a group without a key yet), and does nothing with --e2ee off.
func TestPrefetch(t *testing.T) {
	other := "c" + strings.Repeat("d", 32)
	f := &fakeLine{probeAnswers: []*lineapi.Probe{noGroupKey, noGroupKey}}
	c := newCache()
	c.probes[group] = plainChat
	s := &Sender{GW: f, From: user, E2EE: E2EEAuto, Probes: c}
	s.Prefetch(context.Background(), []string{group, other})
	if f.probes != 1 || len(c.probes) != 1 {
		t.Fatalf("%d probes, cache %v", f.probes, c.probes)
	}
	f.probeAnswers = []*lineapi.Probe{sealedChat}
	f.probes = 0
	s.Prefetch(context.Background(), []string{other})
	if f.probes != 1 || c.probes[other] != sealedChat {
		t.Fatalf("%d probes, cache %v", f.probes, c.probes)
	}
	// Prefetch started the revision lookup; Revision waits for it.
	if rev, err := s.Revision(context.Background()); err != nil || rev != 100 {
		t.Fatalf("revision %d, %v", rev, err)
	}
	if rev, ok := s.FetchedRevision(); !ok || rev != 100 {
		t.Fatalf("fetched revision %d %v", rev, ok)
	}
	off := &Sender{GW: f, E2EE: E2EEOff, Probes: newCache()}
	off.Prefetch(context.Background(), []string{group})
	if f.probes != 1 {
		t.Fatal("probed with --e2ee off")
	}
}

// Confirm finds a batch's sends on the stream from the revision saved
// before them; without a stream it says so.
func TestConfirmAndRevision(t *testing.T) {
	f := &fakeLine{}
	s := &Sender{GW: f, Finder: f, From: user, E2EE: E2EEOff}
	if _, ok := s.FetchedRevision(); ok {
		t.Fatal("a revision before any was asked")
	}
	a, err := s.Send(context.Background(), group, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Send(context.Background(), group, "b")
	found, err := s.Confirm(context.Background(), []*Result{a, b, {ReqSeq: 1}})
	if err != nil || len(found) != 2 || found[a.ReqSeq] != a.MessageID || found[b.ReqSeq] != b.MessageID {
		t.Fatalf("found %v, %v", found, err)
	}
	if rev, ok := s.FetchedRevision(); !ok || rev != 100 {
		t.Fatalf("fetched revision %d %v", rev, ok)
	}
	saved := &Sender{GW: f, SavedRevision: 42}
	if _, err := saved.Confirm(context.Background(), nil); err == nil {
		t.Fatal("confirmed without a stream")
	}
	if rev, _ := saved.Revision(context.Background()); rev != 42 {
		t.Fatalf("revision %d", rev)
	}
	if _, ok := saved.FetchedRevision(); ok {
		t.Fatal("a saved revision reported as fetched")
	}
	bad := &Sender{GW: &fakeLine{revErr: errors.New("rev down")}, Finder: f}
	if _, err := bad.Confirm(context.Background(), []*Result{a}); err == nil {
		t.Fatal("confirmed without a revision")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	slow := &Sender{GW: blockedRev{&fakeLine{}}}
	if _, err := slow.Revision(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("revision with an ended context: %v", err)
	}
}

// blockedRev's getLastOpRevision answers only when its context ends.
type blockedRev struct{ *fakeLine }

func (blockedRev) GetLastOpRevision(ctx context.Context) (int64, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

// nilContent stands for a nil Content in a table whose nil means the default.
type nilContent struct{ Content }
