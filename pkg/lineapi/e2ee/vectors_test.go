package e2ee

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/linectl/linectl/internal/testnode"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/sealing"
)

// The vectors in testdata/e2ee come from scripts/e2eegen/gen.mjs, an
// independent generator in JavaScript written from the peers' published
// algorithms (beeper/line, CHRLINE, linejs, the extension), not from this
// package.
const vectorsPath = "../../../testdata/e2ee/vectors.json"

type vKey struct {
	KeyID   int    `json:"keyId"`
	Private []byte `json:"private"`
	Public  []byte `json:"public"`
}

// groupSharedKey is LINE's answer plus the chat it belongs to.
type groupSharedKey struct {
	lineapi.GroupSharedKey
	ChatMID string `json:"chatMid"`
}

type vectors struct {
	Text     string `json:"text"`
	Accounts map[string]struct {
		MID  string `json:"mid"`
		Keys []vKey `json:"keys"`
	} `json:"accounts"`
	Groups map[string][]struct {
		GroupKeyID int    `json:"groupKeyId"`
		Private    []byte `json:"private"`
	} `json:"groups"`
	GroupSharedKeys []groupSharedKey `json:"groupSharedKeys"`
	Messages        []struct {
		Name      string `json:"name"`
		Recipient string `json:"recipient"`
		AAD       string `json:"aad"`
		Message   struct {
			From            string            `json:"from"`
			To              string            `json:"to"`
			ContentType     int               `json:"contentType"`
			ContentMetadata map[string]string `json:"contentMetadata"`
			Chunks          []string          `json:"chunks"`
		} `json:"message"`
		Text string `json:"text"`
	} `json:"messages"`
	KeyChains []struct {
		Name         string `json:"name"`
		LoginPrivate []byte `json:"loginPrivate"`
		MetaData     struct {
			EncryptedKeyChain []byte `json:"encryptedKeyChain"`
			PublicKey         []byte `json:"publicKey"`
		} `json:"metaData"`
		ExpectKeys   []vKey `json:"expectKeys"`
		LatestKeyID  int    `json:"latestKeyId"`
		HashKeyChain []byte `json:"hashKeyChain"`
	} `json:"keyChains"`
}

func loadVectors(t *testing.T) *vectors { return loadVectorsF(t) }

func loadVectorsF(t testing.TB) *vectors {
	t.Helper()
	b, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// fakeGW answers key lookups from the vectors, as LINE would answer the
// account `me`, and counts what was asked.
type fakeGW struct {
	v  *vectors
	me string

	mu       sync.Mutex
	asked    []string
	register func(chat string, members []string, ids []int, wrapped []string) (*lineapi.GroupSharedKey, error)
}

func (g *fakeGW) note(s string) {
	g.mu.Lock()
	g.asked = append(g.asked, s)
	g.mu.Unlock()
}

func (g *fakeGW) GetE2EEPublicKey(_ context.Context, mid string, id int) (*lineapi.E2EEPublicKey, error) {
	g.note(fmt.Sprintf("key %s %d", NormalizeMID(mid), id))
	for _, a := range g.v.Accounts {
		if SameMID(a.MID, mid) {
			for _, k := range a.Keys {
				if k.KeyID == id {
					return &lineapi.E2EEPublicKey{Version: 1, KeyID: id, KeyData: base64.StdEncoding.EncodeToString(k.Public)}, nil
				}
			}
		}
	}
	return nil, lineapi.ErrNotFound
}

func (g *fakeGW) GetE2EEGroupSharedKey(_ context.Context, chat string, id int) (*lineapi.GroupSharedKey, error) {
	g.note(fmt.Sprintf("group %s %d", chat, id))
	for _, k := range g.v.GroupSharedKeys {
		if k.GroupKeyID == id && SameMID(k.Receiver, g.me) && SameMID(k.ChatMID, chat) {
			kk := k.GroupSharedKey
			return &kk, nil
		}
	}
	return nil, lineapi.ErrNotFound
}

func (g *fakeGW) GetLastE2EEPublicKeys(context.Context, string) (map[string]lineapi.E2EEPublicKey, error) {
	out := map[string]lineapi.E2EEPublicKey{}
	for _, a := range g.v.Accounts {
		k, _ := latest(a.Keys)
		out[a.MID] = lineapi.E2EEPublicKey{Version: 1, KeyID: k.KeyID, KeyData: base64.StdEncoding.EncodeToString(k.Public)}
	}
	return out, nil
}

func (g *fakeGW) RegisterE2EEGroupKey(_ context.Context, chat string, members []string, ids []int, wrapped []string) (*lineapi.GroupSharedKey, error) {
	return g.register(chat, members, ids, wrapped)
}

func latest(keys []vKey) (vKey, bool) {
	var best vKey
	for _, k := range keys {
		if k.KeyID > best.KeyID {
			best = k
		}
	}
	return best, len(keys) > 0
}

// sealerFor is the device of account label.
func (v *vectors) sealerFor(label string) (*Sealer, *fakeGW) {
	a := v.Accounts[label]
	ks := &MemoryKeyStore{}
	for _, k := range a.Keys {
		ks.Own = append(ks.Own, sealing.KeyPair{KeyID: k.KeyID, Private: k.Private, Public: k.Public})
	}
	gw := &fakeGW{v: v, me: a.MID}
	return &Sealer{GW: gw, Keys: ks, MID: a.MID}, gw
}

// Every vector opens to its text with the AAD form it was made with; keys
// the message names and the device lacks are fetched by id.
func TestOpenVectors(t *testing.T) {
	v := loadVectors(t)
	if len(v.Messages) < 12 {
		t.Fatalf("only %d message vectors", len(v.Messages))
	}
	wantAsked := map[string]string{
		"v2_user_old_sender_key": "key u344ecddfdf88ed86af6ca6c90c57922a 1000",
		"v2_group_old_group_key": "group c4641a382f6382278929b897825f234a9 6",
		"v2_group_from_C":        "key u9c0ffee0000000000000000000000c0c 3003",
	}
	for _, vec := range v.Messages {
		t.Run(vec.Name, func(t *testing.T) {
			s, gw := v.sealerFor(vec.Recipient)
			m := vec.Message
			got, err := s.Open(context.Background(), Sealed{From: m.From, To: m.To, ContentType: m.ContentType,
				Version: m.ContentMetadata["e2eeVersion"], Chunks: m.Chunks})
			if err != nil {
				t.Fatalf("open: %v (asked %v)", err, gw.asked)
			}
			if got.Text != vec.Text || got.Text != v.Text {
				t.Fatalf("text %q, want %q", got.Text, vec.Text)
			}
			if vec.AAD != "" && got.AAD.String() != vec.AAD {
				t.Fatalf("opened with AAD %s, vector made with %s", got.AAD, vec.AAD)
			}
			if w := wantAsked[vec.Name]; w != "" && !contains(gw.asked, w) {
				t.Fatalf("did not fetch %q by id: asked %v", w, gw.asked)
			}
			// A second open is served from the cache.
			n := len(gw.asked)
			if _, err := s.Open(context.Background(), Sealed{From: m.From, To: m.To, Version: m.ContentMetadata["e2eeVersion"], Chunks: m.Chunks}); err != nil || len(gw.asked) != n {
				t.Fatalf("second open: %v, asked again %v", err, gw.asked[n:])
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A flipped bit, a wrong version or chunks cut short fail, never panic.
func TestOpenVectorsTampered(t *testing.T) {
	v := loadVectors(t)
	for _, vec := range v.Messages {
		s, _ := v.sealerFor(vec.Recipient)
		m := vec.Message
		ct, _ := base64.StdEncoding.DecodeString(m.Chunks[1])
		ct[len(ct)/2] ^= 0x40
		bad := append([]string{}, m.Chunks...)
		bad[1] = base64.StdEncoding.EncodeToString(ct)
		if _, err := s.Open(context.Background(), Sealed{From: m.From, To: m.To, Version: m.ContentMetadata["e2eeVersion"], Chunks: bad}); err == nil {
			t.Errorf("%s: tampered ciphertext opened", vec.Name)
		}
		if _, err := s.Open(context.Background(), Sealed{From: m.From, To: m.To, Version: "3", Chunks: m.Chunks}); err == nil {
			t.Errorf("%s: version 3 opened", vec.Name)
		}
		if _, err := s.Open(context.Background(), Sealed{From: m.From, To: m.To, Version: "2", Chunks: m.Chunks[:4]}); err == nil {
			t.Errorf("%s: four chunks opened", vec.Name)
		}
	}
}

// Key chains unwrap (PKCS#7) to the generator's keys; the newest key is the
// highest key id, wherever it stands in the chain.
func TestKeyChainVectors(t *testing.T) {
	v := loadVectors(t)
	for _, kc := range v.KeyChains {
		keys, err := sealing.UnwrapKeyChain(kc.LoginPrivate, kc.MetaData.PublicKey, kc.MetaData.EncryptedKeyChain)
		if err != nil {
			t.Fatalf("%s: %v", kc.Name, err)
		}
		if len(keys) != len(kc.ExpectKeys) {
			t.Fatalf("%s: %d keys, want %d", kc.Name, len(keys), len(kc.ExpectKeys))
		}
		for i, k := range keys {
			w := kc.ExpectKeys[i]
			if k.KeyID != w.KeyID || !bytes.Equal(k.Private, w.Private) || !bytes.Equal(k.Public, w.Public) {
				t.Fatalf("%s: key %d = %d, want %d", kc.Name, i, k.KeyID, w.KeyID)
			}
		}
		s := &Sealer{Keys: &MemoryKeyStore{Own: keys}}
		if k, err := s.OwnKey(0); err != nil || k.KeyID != kc.LatestKeyID {
			t.Fatalf("%s: newest key %d, want %d", kc.Name, k.KeyID, kc.LatestKeyID)
		}
		h, err := sealing.HashKeyChain(kc.LoginPrivate, kc.MetaData.PublicKey, kc.MetaData.EncryptedKeyChain)
		if err != nil || !bytes.Equal(h, kc.HashKeyChain) {
			t.Fatalf("%s: hashKeyChain differs", kc.Name)
		}
	}
}

// What this package seals, the independent generator opens, as LINE's apps
// would: V2 with beeper/line's AAD form, V1 with the JSON payload, groups
// with the group key's spec version, and a registered group key unwraps for
// each member.
func TestGeneratorOpensWhatWeSeal(t *testing.T) {
	testnode.Path(t)
	v := loadVectors(t)
	a, b := v.Accounts["A"], v.Accounts["B"]
	aNew, _ := latest(a.Keys)
	bNew, _ := latest(b.Keys)
	s, gw := v.sealerFor("A")
	type openCase struct {
		Name    string          `json:"name"`
		Message json.RawMessage `json:"message,omitempty"`
		Private []byte          `json:"private,omitempty"`
		Public  []byte          `json:"public,omitempty"`
		Unwrap  map[string]any  `json:"unwrap,omitempty"`
	}
	var cases []openCase
	want := map[string]string{}
	seal := func(name string, p *lineapi.Probe, from, to string, openPriv []byte) {
		t.Helper()
		text := v.Text + " / " + name + " <&>"
		m := lineapi.OutgoingMessage{From: from, To: to, ToType: p.ToType, Text: text}
		if _, err := s.Seal(context.Background(), p, &m); err != nil {
			t.Fatalf("%s: seal: %v", name, err)
		}
		msg, _ := json.Marshal(map[string]any{"from": m.From, "to": m.To, "toType": m.ToType, "contentType": m.ContentType,
			"contentMetadata": m.ContentMetadata, "chunks": m.Chunks})
		cases = append(cases, openCase{Name: name, Message: msg, Private: openPriv, Public: aNew.Public})
		want[name] = text
	}
	peer := &lineapi.E2EEPublicKey{Version: 1, KeyID: bNew.KeyID, KeyData: base64.StdEncoding.EncodeToString(bNew.Public)}
	user := func(spec int) *lineapi.Probe {
		return &lineapi.Probe{MID: b.MID, ToType: lineapi.ToUser, Usable: true, SpecVersion: spec, PeerKey: peer}
	}
	upper := func(mid string) string { return strings.ToUpper(mid[:1]) + mid[1:] }
	seal("v2_user", user(2), a.MID, b.MID, bNew.Private)
	seal("v2_user_upper", user(2), upper(a.MID), upper(b.MID), bNew.Private)
	seal("v1_user", user(1), a.MID, b.MID, bNew.Private)
	for _, chat := range []string{"c4641a382f6382278929b897825f234a9", "c1111111111111111111111111111111a"} {
		var gk *lineapi.GroupSharedKey
		for _, k := range v.GroupSharedKeys {
			if k.ChatMID == chat && SameMID(k.Receiver, a.MID) && (gk == nil || k.GroupKeyID > gk.GroupKeyID) {
				kk := k.GroupSharedKey
				gk = &kk
			}
		}
		if gk == nil {
			t.Fatalf("no group key of %s for A", chat)
		}
		p := &lineapi.Probe{MID: chat, ToType: lineapi.ToGroup, Usable: true, SpecVersion: gk.SpecVersion, GroupKey: gk}
		var gpriv []byte
		for _, g := range v.Groups[chat] {
			if g.GroupKeyID == gk.GroupKeyID {
				gpriv = g.Private
			}
		}
		seal(fmt.Sprintf("group_%s_v%d", chat[:6], gk.SpecVersion), p, a.MID, chat, gpriv)
	}
	// A group key this package registers unwraps for every member.
	var registered map[string]any
	gw.register = func(chat string, members []string, ids []int, wrapped []string) (*lineapi.GroupSharedKey, error) {
		for i, m := range members {
			for label, acc := range v.Accounts {
				if acc.MID == m {
					k, _ := latest(acc.Keys)
					if ids[i] != k.KeyID {
						t.Errorf("wrapped for %s key %d, current is %d", label, ids[i], k.KeyID)
					}
					registered = map[string]any{"encryptedSharedKey": wrapped[i], "private": k.Private, "public": aNew.Public}
					cases = append(cases, openCase{Name: "register_" + label, Unwrap: registered})
				}
			}
		}
		return &lineapi.GroupSharedKey{GroupKeyID: 77}, nil
	}
	newChat := "c0000000000000000000000000000beef"
	m := lineapi.OutgoingMessage{From: a.MID, To: newChat, ToType: lineapi.ToGroup, Text: "first"}
	if _, err := s.Seal(context.Background(), &lineapi.Probe{MID: newChat, ToType: lineapi.ToGroup, Usable: true, SpecVersion: 2}, &m); err != nil {
		t.Fatal(err)
	}
	regPriv, _ := s.Keys.GroupKey(newChat, 77)

	in, _ := json.Marshal(map[string]any{"cases": cases})
	out := testnode.Generator(t, filepath.Join("..", "..", ".."), "gen.mjs", "open", in)
	var res struct {
		Results []struct {
			Name         string `json:"name"`
			OK           bool   `json:"ok"`
			Error        string `json:"error"`
			Version      string `json:"version"`
			AAD          string `json:"aad"`
			Text         string `json:"text"`
			GroupPrivate []byte `json:"groupPrivate"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("generator output: %v\n%s", err, out)
	}
	if len(res.Results) != len(cases) || len(cases) < 8 {
		t.Fatalf("%d results for %d cases", len(res.Results), len(cases))
	}
	names := []string{}
	for _, r := range res.Results {
		names = append(names, r.Name)
		if !r.OK {
			t.Errorf("%s: the generator could not open it: %s", r.Name, r.Error)
			continue
		}
		if strings.HasPrefix(r.Name, "register_") {
			if !bytes.Equal(r.GroupPrivate, regPriv) {
				t.Errorf("%s: unwrapped another group key", r.Name)
			}
			continue
		}
		if r.Text != want[r.Name] {
			t.Errorf("%s: text %q, want %q", r.Name, r.Text, want[r.Name])
		}
		if r.Version == "2" && r.AAD != "lower33" {
			t.Errorf("%s: opened with AAD %q, want lower33 (beeper/line's form)", r.Name, r.AAD)
		}
		if wantV := map[bool]string{true: "1", false: "2"}[strings.HasPrefix(r.Name, "v1") || strings.HasSuffix(r.Name, "_v1")]; r.Version != wantV {
			t.Errorf("%s: version %s, want %s", r.Name, r.Version, wantV)
		}
	}
	sort.Strings(names)
	t.Logf("the generator opened: %v", names)
}

// The committed vectors are the generator's output, and the generator opens
// them and the earlier independent generator's vectors (testdata/e2ee/earlier-vectors.json).
func TestGeneratorSelfcheck(t *testing.T) {
	// Run from the repository root: the generator reads testdata/ there.
	root := filepath.Join("..", "..", "..")
	testnode.Committed(t, root, "gen.mjs", vectorsPath)
	testnode.Generator(t, root, "gen.mjs", "selfcheck", nil)
}
