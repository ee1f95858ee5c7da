package delivery

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// Media is an image or a file to send (docs/media-protocol.md).
type Media struct {
	ContentType int    // lineapi.ContentImage or lineapi.ContentFile
	Name        string // FILE_NAME: its extension tells LINE the format
	Source      obs.Source
	// Metadata is added to a plain message's contentMetadata and to a sealed
	// one's (MEDIA_CONTENT_INFO, MEDIA_THUMB_INFO for an image).
	Metadata map[string]string
	// Preview returns an image's JPEG thumbnail, made on its first call
	// (later calls wait for it and return the same); it is asked for only
	// when it is uploaded (the sealed flow), best-effort; nil: none.
	Preview func() []byte
	// StartPreview, when set, starts making the preview before the flow
	// is known (a caller with a core to spare: linectl send starts it
	// while the process starts); StopPreview stops it — a Sender calls it
	// when the flow is plain, which uploads no preview. A Preview after a
	// stop makes it again.
	StartPreview, StopPreview func()
}

func (md *Media) preview() []byte {
	if md.Preview == nil {
		return nil
	}
	return md.Preview()
}

// MediaGateway is what a Sender calls for media besides Gateway.
type MediaGateway interface {
	DetermineMediaMessageFlow(ctx context.Context, chat string) (*lineapi.MediaFlow, error)
}

// MediaFlowCache is an optional ProbeCache method set: it remembers each
// chat's determineMediaMessageFlow answer between runs (nil drops it).
type MediaFlowCache interface {
	MediaFlow(mid string) (*lineapi.MediaFlow, bool)
	SetMediaFlow(mid string, f *lineapi.MediaFlow)
}

// Uploader puts objects on LINE's object storage (obs.Client).
type Uploader interface {
	Upload(ctx context.Context, path string, p obs.Params, src obs.Source) (string, error)
}

// ErrUploadFailed means a plain media message was delivered (LINE sends the
// message first and takes its object after) but its object could not be
// uploaded: the chat shows a placeholder. The message is not sent again;
// the upload can be repeated to the same message id.
var ErrUploadFailed = errors.New("the message was delivered but its image or file could not be uploaded")

// UploadError is ErrUploadFailed with the message id to upload to.
type UploadError struct {
	MessageID string
	Err       error
}

func (e *UploadError) Error() string {
	return fmt.Sprintf("%v (message %s): %v", ErrUploadFailed, e.MessageID, e.Err)
}
func (e *UploadError) Unwrap() []error { return []error{ErrUploadFailed, e.Err} }

// sidOf is the storage id of a sealed object (beeper/line obsTypeFromSID).
func sidOf(contentType int) string {
	if contentType == lineapi.ContentImage {
		return obs.SIDSealedImage
	}
	return obs.SIDSealedFile
}

// obsType is X-Obs-Params type of a plain object: the real type (beeper/line
// commits 4a99d85, 98b2fbd: "file" for an image shows a placeholder).
func obsType(contentType int) string {
	if contentType == lineapi.ContentImage {
		return obs.TypeImage
	}
	return obs.TypeFile
}

// sendMedia sends an image or a file, sealed only where LINE's extension
// 3.7.2 seals one (encryptMessage): the chat's media flow says sealed
// (determineMediaMessageFlow; a type its flowMap does not list is plain,
// checkAndGetMediaMessageFlow) *and* the Letter Sealing probe found a key
// and its allowedTypes lists the content type. Otherwise it goes plain.
// Sealed: the encrypted object is uploaded first (an upload sends nothing
// to anyone, so it is repeated freely), then the sealed message that names
// it is sent exactly once. Plain: the message is sent exactly once, then the
// object is uploaded to its id.
func (s *Sender) sendMedia(ctx context.Context, to string, toType lineapi.ToType, md *Media) (*Result, error) {
	res := &Result{To: to, ToType: toType, ContentType: md.ContentType}
	mg, ok := s.GW.(MediaGateway)
	if !ok || s.Uploader == nil {
		return res, errors.New("this sender cannot send media (no object storage)")
	}
	s.startRevision(ctx)
	flow, why, cached, err := s.decideMedia(ctx, mg, to, md.ContentType, false)
	if err != nil {
		return res, err
	}
	res, err = s.sendMediaAs(ctx, to, toType, md, flow, why)
	if err != nil && cached && refusedFlow(err) {
		// LINE refused what the cached flow or probe led to (nothing was
		// processed): ask again and send once more.
		if flow, why, _, err = s.decideMedia(ctx, mg, to, md.ContentType, true); err != nil {
			return res, err
		}
		return s.sendMediaAs(ctx, to, toType, md, flow, why)
	}
	return res, err
}

// decideMedia is encryptMessage's decision for a media message: FlowSealed
// only when the chat's flow for the type is sealed and the probe allows the
// type; why says what made it plain. cached reports whether a cached answer
// took part.
func (s *Sender) decideMedia(ctx context.Context, mg MediaGateway, to string, contentType int, fresh bool) (flow int, why string, cached bool, err error) {
	flow, cached, err = s.mediaFlow(ctx, mg, to, contentType, fresh)
	if err != nil || flow != lineapi.FlowSealed {
		return lineapi.FlowPlain, "LINE sends this media type to this chat plain (determineMediaMessageFlow)", cached, err
	}
	if fresh && s.Probes != nil {
		s.Probes.DropProbe(to)
	}
	p, pcached, err := s.probe(ctx, to, fresh)
	if err != nil {
		return 0, "", cached, err
	}
	switch {
	case !p.Usable:
		return lineapi.FlowPlain, "the Letter Sealing probe found no key: " + p.Reason, cached || pcached, nil
	case !p.Allows(contentType):
		return lineapi.FlowPlain, fmt.Sprintf("LINE does not allow content type %d to be sealed here (allowedTypes %v)", contentType, p.AllowedTypes), cached || pcached, nil
	}
	return lineapi.FlowSealed, "", cached || pcached, nil
}

// mediaFlow is the chat's flow for a content type: from the cache unless
// fresh, else asked (and cached); plain with --e2ee off.
func (s *Sender) mediaFlow(ctx context.Context, mg MediaGateway, to string, contentType int, fresh bool) (flow int, cached bool, err error) {
	if s.E2EE == E2EEOff {
		return lineapi.FlowPlain, false, nil
	}
	fc, _ := s.Probes.(MediaFlowCache)
	if fc != nil && !fresh {
		if f, ok := fc.MediaFlow(to); ok {
			return f.Flow(contentType), true, nil
		}
	}
	if s.stopped() {
		return 0, false, ErrStopped
	}
	fctx, cancel := s.beforeWriting(ctx)
	defer cancel()
	f, err := mg.DetermineMediaMessageFlow(fctx, to)
	if err != nil {
		return 0, false, s.stopErr(fmt.Errorf("determineMediaMessageFlow: %w", err))
	}
	if fc != nil {
		fc.SetMediaFlow(to, f)
	}
	return f.Flow(contentType), false, nil
}

// refusedFlow reports whether LINE refused a media send in a way a stale
// flow explains: a TalkException (nothing processed) before any message
// went out — plain refused (82), or sealed media refused in a plain chat.
func refusedFlow(err error) bool {
	var te *lineapi.TalkError
	return errors.As(err, &te) && !errors.Is(err, ErrUploadFailed) && !errors.Is(err, ErrOutcomeUnknown)
}

// sendMediaAs sends the media by the flow given (why: what made it plain).
func (s *Sender) sendMediaAs(ctx context.Context, to string, toType lineapi.ToType, md *Media, flow int, why string) (*Result, error) {
	res := &Result{To: to, ToType: toType, ContentType: md.ContentType}
	name, size := md.Name, md.Source.Size
	if flow == lineapi.FlowPlain && s.E2EE == E2EERequire {
		return res, fmt.Errorf("%w: %s", ErrSealingImpossible, why)
	}
	m := lineapi.OutgoingMessage{From: s.From, To: to, ToType: toType, ContentType: md.ContentType}
	if flow == lineapi.FlowSealed {
		if err := s.uploadSealed(ctx, md, &m, res); err != nil {
			return res, err
		}
	} else {
		if md.StopPreview != nil {
			md.StopPreview() // started early (StartPreview): a plain image uploads none
		}
		m.ContentMetadata = plainMetadata(md)
	}
	obj := res.Object
	res, err := s.deliver(ctx, to, toType, prepared{m: m, flow: flow})
	res.FileName, res.FileSize = name, size
	if err != nil || flow == lineapi.FlowSealed {
		res.Object = obj
		return res, err
	}
	if s.Pending != nil {
		s.Pending(res)
	}
	path, err := UploadPlain(ctx, s.Uploader, res.MessageID, md)
	if err != nil {
		return res, &UploadError{MessageID: res.MessageID, Err: err}
	}
	res.Object = path
	return res, nil
}

// UploadPlain stores md as the object of the plain media message messageID
// (POST /r/talk/m/<id>) and returns the object's path, as LINE's extension
// 3.7.2 does (eE → oE): X-Obs-Params {ver, name: the file name, type:
// image|file, cat: "original" for an original image}; any 2xx is success;
// no preview is uploaded (the extension uploads one only in the sealed
// flow, nE). It sends no message, so it may be done again: after an
// UploadError, to complete the message.
func UploadPlain(ctx context.Context, up Uploader, messageID string, md *Media) (string, error) {
	path := "/r/talk/m/" + messageID
	p := obs.Params{Name: md.Name, Type: obsType(md.ContentType)}
	if md.ContentType == lineapi.ContentImage {
		p.Cat = "original" // linectl sends the image as it is: MEDIA_CONTENT_INFO category "original"
	}
	if _, err := up.Upload(ctx, path, p, md.Source); err != nil {
		return "", err
	}
	return path, nil
}

// plainMetadata is a plain media message's contentMetadata as the
// extension's Rb builds it in the plain flow (V1): an image carries its
// MEDIA_CONTENT_INFO only (MEDIA_THUMB_INFO goes with the sealed flow); a
// file FILE_NAME and FILE_SIZE (String(file.size)). There is no
// contentType key (beeper/line sends one; the extension does not).
func plainMetadata(md *Media) map[string]string {
	if md.ContentType == lineapi.ContentImage {
		out := map[string]string{}
		if v, ok := md.Metadata["MEDIA_CONTENT_INFO"]; ok {
			out["MEDIA_CONTENT_INFO"] = v
		}
		return out
	}
	out := map[string]string{
		"FILE_NAME": md.Name,
		"FILE_SIZE": strconv.FormatInt(md.Source.Size, 10),
	}
	for k, v := range md.Metadata {
		out[k] = v
	}
	return out
}

// uploadSealed encrypts and uploads the object with a fresh key material
// and prepares m as LINE's extension 3.7.2 does (nE, Rb,
// encryptWithE2eeChannel): the upload is named by the time in decimal
// milliseconds, never by the file; the clear metadata names the object
// (SID, OID), its plain size (FILE_SIZE) and, for an image, its
// MEDIA_CONTENT_INFO / MEDIA_THUMB_INFO; the file name and the key material
// travel only in the sealed payload {"keyMaterial","fileName"} (the
// extension deletes FILE_NAME and ENC_KM from the clear metadata after
// sealing; there is no contentType key). e2eeVersion is the sealer's.
func (s *Sender) uploadSealed(ctx context.Context, md *Media, m *lineapi.OutgoingMessage, res *Result) error {
	km, err := obs.NewKeyMaterial()
	if err != nil {
		return err
	}
	if md.Preview != nil && md.ContentType == lineapi.ContentImage {
		go md.Preview() // made while the object is encrypted and uploaded
	}
	sid := sidOf(md.ContentType)
	src := obs.Source{Size: obs.EncryptedSize(md.Source.Size), Open: func() (io.ReadCloser, error) {
		rc, err := md.Source.Open()
		if err != nil {
			return nil, err
		}
		r, err := obs.Encrypt(km, rc)
		if err != nil {
			rc.Close()
			return nil, err
		}
		// Encrypted a few chunks ahead, on another core than the writes.
		ahead := obs.ReadAhead(r, 256<<10, 4)
		return readCloser{ahead, closers{ahead, rc}}, nil
	}}
	// Sealed objects are always "file" (oE: type "file" unless the V1 flow;
	// beeper/line commit cf2f777: 415 otherwise), named String(Date.now()).
	p := obs.Params{Name: SealedUploadName(s.now()), Type: obs.TypeFile}
	// Before its message: Stop ends it at once (nothing sent for it yet).
	if s.stopped() {
		return ErrStopped
	}
	uctx, cancel := s.beforeWriting(ctx)
	defer cancel()
	oid, err := s.Uploader.Upload(uctx, "/r/talk/"+sid+"/"+obs.ReqID(), p, src)
	if err == nil && oid == "" {
		err = obs.ErrNoOID // the message could not name the object (nE throws too)
	}
	if err != nil {
		return s.stopErr(fmt.Errorf("upload (nothing was sent): %w", err))
	}
	res.Object = "/r/talk/" + sid + "/" + oid
	if preview := md.preview(); preview != nil && md.ContentType == lineapi.ContentImage {
		// The preview is encrypted with the same key material (nE, every
		// peer). The extension names it after the file (Ry renames the image
		// to .jpg); linectl does not let the file name out: the same name as
		// the object.
		if blob, err := obs.EncryptBytes(km, preview); err == nil {
			_, _ = s.Uploader.Upload(uctx, "/r/talk/"+sid+"/"+oid+"__ud-preview", p, obs.BytesSource(blob))
		}
	}
	m.ContentMetadata = make(map[string]string, len(md.Metadata)+3)
	for k, v := range md.Metadata {
		m.ContentMetadata[k] = v
	}
	m.ContentMetadata["SID"], m.ContentMetadata["OID"] = sid, oid
	m.ContentMetadata["FILE_SIZE"] = strconv.FormatInt(md.Source.Size, 10) // plain size: nE, Rb String(file.size)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		KeyMaterial string `json:"keyMaterial"`
		FileName    string `json:"fileName"`
	}{base64.StdEncoding.EncodeToString(km), md.Name})
	m.SealedPayload = bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	return nil
}

// SealedUploadName is X-Obs-Params.name of a sealed upload made at t: the
// time in decimal milliseconds, as the extension's String(Date.now()) (nE).
func SealedUploadName(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

type readCloser struct {
	io.Reader
	io.Closer
}

// closers closes each in turn and returns the first error.
type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
