package simgw

// Media messages (images, files), plain and Letter-Sealed, as
// docs/media-protocol.md describes them: the flow decision, what
// sendMessage checks for media, LINE's file encryption, X-Talk-Meta and
// InjectMedia.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"path"
	"strconv"
	"strings"
)

// Media content types the simulator takes.
const (
	ctImage = 1
	ctFile  = 14
)

func isMedia(ct int) bool { return ct == ctImage || ct == ctFile }

// obsTypeOf is X-Obs-Params' type for a plain upload of content type ct.
func obsTypeOf(ct int) string {
	if ct == ctImage {
		return "image"
	}
	return "file"
}

// sidOf is the sealed service id of content type ct.
func sidOf(ct int) string {
	if ct == ctImage {
		return "emi"
	}
	return "emf"
}

// determineMediaMessageFlow [{chatMid}]: 2 (sealed upload) for every media
// type when the chat is sealed for media, else 1.
func (s *objectStore) determineMediaMessageFlow(req *request) (any, error) {
	var a struct {
		ChatMid *string `json:"chatMid"`
	}
	if json.Unmarshal(req.args[0], &a) != nil || a.ChatMid == nil {
		return nil, gw(10102)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sealed, err := s.mediaSealed(req.mid, *a.ChatMid)
	if err != nil {
		return nil, err
	}
	f := 1
	if sealed {
		f = 2
	}
	return map[string]any{"flowMap": map[string]int{"1": f, "2": f, "3": f, "14": f}, "cacheTtlMillis": "21600000"}, nil
}

// mediaSealed reports whether the chat's flowMap says sealed for media: both
// people of a user chat, or every member of a group or room, have Letter
// Sealing. (Whether a type is then sealed also needs allowedTypes: EXT
// encryptMessage; sendMessage checks both.) Caller holds s.mu.
func (s *objectStore) mediaSealed(from, chat string) (bool, error) {
	me := s.accounts[from]
	if len(chat) < 2 {
		return false, talk(5, "not found")
	}
	if toTypeOf(chat) == 0 {
		peer := s.accounts[chat]
		if peer == nil {
			return false, talk(5, "not found")
		}
		return peer.LetterSealing && me != nil && me.LetterSealing, nil
	}
	c := s.chats[chat]
	if c == nil {
		return false, talk(5, "not found")
	}
	if !c.isMember(from) {
		return false, talk(10, "not a member")
	}
	for _, mem := range c.Members {
		if a := s.accounts[mem]; a == nil || !a.LetterSealing {
			return false, nil
		}
	}
	return true, nil
}

// checkMedia refuses a media message of the wrong shape. LINE's answers to
// these are not known: TalkException 0, as for other malformed messages (GUESS).
func checkMedia(m *outgoing, sealed bool) error {
	md := m.ContentMetadata
	if _, ok := md["ENC_KM"]; ok {
		// GUESS/policy: the real server accepts ENC_KM (BEEPER sends it), but
		// it is the file key in clear. linectl promises never to send it and
		// the simulator is the test of that promise.
		return talk(0, "ENC_KM must not be sent")
	}
	switch {
	case !*m.HasContent:
		return talk(0, "illegal argument: a media message has hasContent true")
	case m.Text != nil:
		return talk(0, "illegal argument: a media message has no text")
	case *m.ContentType == ctFile && !sealed && md["FILE_NAME"] == "":
		return talk(0, "illegal argument: a file needs FILE_NAME") // a sealed one's is in the chunks
	}
	// A plain image has no FILE_SIZE (EXT Rb: MEDIA_CONTENT_INFO only).
	if _, err := decimal(md["FILE_SIZE"]); err != nil && (sealed || *m.ContentType == ctFile || md["FILE_SIZE"] != "") {
		return talk(0, "illegal argument: FILE_SIZE must be a decimal size")
	}
	return nil
}

// decimal parses a canonical non-negative decimal.
func decimal(v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != v {
		return 0, errors.New("not a decimal")
	}
	return n, nil
}

// mediaFlow refuses a media message sent the wrong way for its chat.
func mediaFlow(chatSealed, sealed bool) error {
	switch {
	case chatSealed && !sealed:
		return talk(82, "can not send using plain mode")
	case !chatSealed && sealed:
		return talk(0, "e2ee media message not allowed for plain chat") // BEEPER commit 4a99d85
	}
	return nil
}

// sealedObject is the object a sealed media message names: in its SID,
// uploaded by its sender, FILE_SIZE bytes long. LINE's answers are not
// known (GUESS: TalkException 0). Caller holds s.mu.
func (s *objectStore) sealedObject(from string, ct int, md map[string]string) (*obsObject, error) {
	sid := md["SID"]
	if sid != sidOf(ct) {
		return nil, talk(0, "illegal argument: SID must be "+sidOf(ct))
	}
	o := s.objects[sid+"/"+md["OID"]]
	if o == nil || o.owner != from {
		return nil, talk(0, "illegal argument: OID names no object the sender uploaded to "+sid)
	}
	// FILE_SIZE is the plain size (EXT nE, Rb: String(file.size)): the
	// object less its 32-byte HMAC.
	if n, _ := decimal(md["FILE_SIZE"]); n != int64(len(o.data))-32 {
		return nil, talk(0, "illegal argument: FILE_SIZE is not the plain size of the uploaded object")
	}
	for _, k := range []string{"FILE_NAME", "contentType"} {
		if _, ok := md[k]; ok {
			// GUESS/policy, as ENC_KM: the real server takes it, but EXT
			// deletes FILE_NAME after sealing and never writes contentType
			// (encryptWithE2eeChannel, Rb); linectl promises the server never
			// learns a sealed file's name, and the simulator tests the promise.
			return nil, talk(0, "illegal argument: "+k+" must not be in a sealed media message's clear metadata")
		}
	}
	return o, nil
}

// openMedia reads the sealed payload {"keyMaterial","fileName"} and returns
// the decryption of the object as the recipient's device would do it (run
// by the caller after answering: the real server does no such work, so it
// is kept off the send's answer). The real server cannot do this, so a key
// that does not open the object is recorded in MediaErr, not refused; a
// payload that is not the JSON shape is (85, as for text).
func openMedia(m *Message, plain []byte, o *obsObject) (decrypt func(*Message), err error) {
	var p struct {
		KeyMaterial *string `json:"keyMaterial"`
		FileName    *string `json:"fileName"`
	}
	if json.Unmarshal(plain, &p) != nil || p.KeyMaterial == nil {
		return nil, talk(85, "plaintext is not JSON with a keyMaterial")
	}
	km, err := base64.StdEncoding.DecodeString(*p.KeyMaterial)
	if err != nil || len(km) != 32 {
		return nil, talk(85, "keyMaterial is not 32 bytes in base64")
	}
	m.MediaName = m.Metadata["FILE_NAME"]
	if p.FileName != nil {
		m.MediaName = *p.FileName
	}
	data, preview := o.data, o.preview
	return func(m *Message) {
		var err error
		if m.Media, err = decryptFile(km, data); err != nil {
			m.MediaErr = err.Error()
		}
		if preview != nil {
			m.Preview, _ = decryptFile(km, preview) // same key and nonce (docs/media-protocol.md §3.2)
		}
	}, nil
}

// fileKeys derives LINE's file keys from keyMaterial: HKDF-SHA256, empty
// salt, info "FileEncryption", 76 bytes (docs/media-protocol.md §3.1).
func fileKeys(km []byte) (encKey, macKey, iv []byte) {
	okm, _ := hkdf.Key(sha256.New, km, nil, "FileEncryption", 76)
	return okm[:32], okm[32:64], append(okm[64:76:76], 0, 0, 0, 0)
}

// encryptFile is AES-256-CTR(plain) ‖ HMAC-SHA256(macKey, ciphertext).
func encryptFile(km, plain []byte) []byte {
	encKey, macKey, iv := fileKeys(km)
	blk, _ := aes.NewCipher(encKey)
	ct := make([]byte, len(plain), len(plain)+sha256.Size)
	cipher.NewCTR(blk, iv).XORKeyStream(ct, plain)
	h := hmac.New(sha256.New, macKey)
	h.Write(ct)
	return h.Sum(ct)
}

// decryptFile checks the tag (in constant time) and decrypts.
func decryptFile(km, blob []byte) ([]byte, error) {
	if len(blob) < sha256.Size {
		return nil, errors.New("object shorter than its HMAC-SHA256 tag")
	}
	encKey, macKey, iv := fileKeys(km)
	ct, tag := blob[:len(blob)-sha256.Size], blob[len(blob)-sha256.Size:]
	h := hmac.New(sha256.New, macKey)
	h.Write(ct)
	if !hmac.Equal(h.Sum(nil), tag) {
		return nil, errors.New("HMAC-SHA256 tag does not match: wrong keyMaterial or damaged object")
	}
	blk, _ := aes.NewCipher(encKey)
	plain := make([]byte, len(ct))
	cipher.NewCTR(blk, iv).XORKeyStream(plain, ct)
	return plain, nil
}

// parseTalkMeta reads X-Talk-Meta: base64 of {"message": base64 of a Thrift
// binary Message with field 4 (id) and an empty list field 27}, and returns
// the message id (docs/media-protocol.md §4).
func parseTalkMeta(h string) (string, error) {
	outer, err := base64.StdEncoding.DecodeString(h)
	var j struct {
		Message *string `json:"message"`
	}
	if err != nil || json.Unmarshal(outer, &j) != nil || j.Message == nil {
		return "", errors.New(`not base64 of {"message": …}`)
	}
	b, err := base64.StdEncoding.DecodeString(*j.Message)
	if err != nil {
		return "", errors.New("message is not base64")
	}
	return talkMetaID(b)
}

// talkMetaID parses the Thrift struct: string fields and empty lists of
// structs only, then a stop byte and nothing after it.
func talkMetaID(b []byte) (string, error) {
	id, short := "", errors.New("struct truncated")
	for {
		if len(b) == 0 {
			return "", short
		}
		typ := b[0]
		if typ == 0 {
			break
		}
		if len(b) < 7 {
			return "", short
		}
		field, n := binary.BigEndian.Uint16(b[1:3]), binary.BigEndian.Uint32(b[3:7])
		switch {
		case typ == 0x0B && uint64(len(b)-7) >= uint64(n):
			if field == 4 {
				id = string(b[7 : 7+n])
			}
			b = b[7+n:]
		case typ == 0x0F && b[3] == 0x0C && len(b) >= 8 && binary.BigEndian.Uint32(b[4:8]) == 0:
			b = b[8:]
		default:
			return "", errors.New("unexpected field in struct")
		}
	}
	if len(b) != 1 || id == "" {
		return "", errors.New("no message id (field 4), or bytes after the stop")
	}
	return id, nil
}

// MediaInjection is a media message another device sends.
type MediaInjection struct {
	From, To    string
	ContentType int    // 1 image, 14 file
	Name        string // FILE_NAME (default image.png or file.bin)
	Data        []byte // the file
	// Sealed: Data is encrypted with a fresh keyMaterial and stored under
	// emi/emf, and the key travels in chunks sealed for the recipient.
	// Otherwise it is stored under the message id, as a plain upload.
	Sealed bool
	// Metadata is added to the message's contentMetadata (e.g. OBS_POP).
	Metadata map[string]string
}

// InjectMedia stores a media message from → to with its object on OBS and
// delivers it as RECEIVE_MESSAGE operations, as InjectMessage does.
func (s *objectStore) InjectMedia(in MediaInjection) (Message, error) {
	if !isMedia(in.ContentType) || len(in.Data) == 0 || len(in.To) < 2 {
		return Message{}, errors.New("media needs content type 1 or 14, data and a recipient")
	}
	if in.Name == "" {
		in.Name = map[int]string{ctImage: "image.png", ctFile: "file.bin"}[in.ContentType]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	md := map[string]string{"FILE_SIZE": strconv.Itoa(len(in.Data))}
	if in.ContentType == ctImage {
		md["MEDIA_CONTENT_INFO"] = mediaContentInfo(len(in.Data), in.Name)
	}
	if in.ContentType == ctFile || !in.Sealed {
		md["FILE_NAME"] = in.Name
	}
	for k, v := range in.Metadata {
		md[k] = v
	}
	var chunks []string
	if in.Sealed {
		var err error
		if chunks, err = s.sealMedia(in, md); err != nil {
			return Message{}, err
		}
	}
	s.seq += 7919
	m := Message{ID: strconv.FormatInt(s.seq, 10), From: in.From, To: in.To, ToType: toTypeOf(in.To), ContentType: in.ContentType,
		Metadata: md, Chunks: chunks, Created: s.now().UnixMilli(), Media: in.Data, MediaName: in.Name}
	s.messages = append(s.messages, m)
	msg := map[string]any{"from": m.From, "to": m.To, "toType": m.ToType, "id": m.ID, "createdTime": strconv.FormatInt(m.Created, 10),
		"hasContent": true, "contentType": m.ContentType, "contentMetadata": md, "sessionId": 0, "reactions": []any{}}
	if chunks != nil {
		msg["chunks"] = chunks
	}
	s.deliver(in.From, in.To, msg)
	return m, nil
}

// sealMedia encrypts in.Data, stores it as From's object and seals its key
// and name for the recipient; md gains SID, OID and e2eeVersion and loses
// FILE_NAME, as the extension's sealed media (FILE_SIZE stays the plain
// size). Caller holds s.mu.
func (s *objectStore) sealMedia(in MediaInjection, md map[string]string) ([]string, error) {
	km := make([]byte, 32)
	_, _ = rand.Read(km)
	payload, _ := json.Marshal(map[string]string{"keyMaterial": b64(km), "fileName": in.Name})
	chunks, err := s.seal.sealFor(SealedInjection{From: in.From, To: in.To, Version: 2, payload: payload, contentType: in.ContentType})
	if err != nil {
		return nil, err
	}
	blob := encryptFile(km, in.Data)
	sid, oid := sidOf(in.ContentType), randomHex(16)
	s.objects[sid+"/"+oid] = &obsObject{owner: in.From, sid: sid, oid: oid, data: blob}
	md["SID"], md["OID"], md["e2eeVersion"] = sid, oid, "2"
	delete(md, "FILE_NAME")
	return chunks, nil
}

// mediaContentInfo is MEDIA_CONTENT_INFO for an image (BEEPER's form).
// fileSize is the plain size: a GUESS for sealed images.
func mediaContentInfo(size int, name string) string {
	ext := strings.TrimPrefix(strings.ToLower(path.Ext(name)), ".")
	if ext == "" {
		ext = "png"
	}
	b, _ := json.Marshal(map[string]any{"category": "original", "fileSize": size, "extension": ext})
	return string(b)
}
