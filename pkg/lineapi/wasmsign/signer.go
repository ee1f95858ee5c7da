// Package wasmsign computes LINE's x-hmac with LINE's own signing module
// (ltsm.wasm, shipped in the LINE Chrome extension) running in wazero, pure
// Go. It provides, in Go, the JavaScript side the module expects (the
// Emscripten runtime and embind), and calls the module's classes as the
// extension does (docs/protocol.md §2):
//
//	sk := SecureKey.loadToken(token)               // once
//	dk := sk.deriveKey(SHA-256(version), SHA-256(accessToken))
//	sig := new Hmac(dk).digest(utf8(path + body))  // base64 → x-hmac
//
// The module is LINE's code: linectl never ships it; see Import.
package wasmsign

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero"

	"github.com/linectl/linectl/pkg/lineapi"
)

// Known builds of ltsm.wasm by SHA-256.
var KnownBuilds = map[string]string{
	"58bb4e189ab9bbd7d72ed415258da36afd50e306cb019bab75329d4f5f1b65b3": "3.7.2",
}

// Defaults of extension 3.7.2 (docs/protocol.md §2).
const (
	DefaultVersion = "3.7.2"
	DefaultToken   = "wODdrvWqmdP4Zliay-iF3cz3KZcK0ekrial868apg06TXeCo7A1hIQO0ESElHg6D"
	Origin         = "chrome-extension://ophjlpahpchlmihnnnihgmmeilfjmjjc"
)

// ErrUnknownBuild is returned for a module whose hash is not a known build.
var ErrUnknownBuild = errors.New("this ltsm.wasm is not a build linectl knows; use the command signer (docs/signer.md)")

// Signer signs with the module. It is safe for concurrent use (calls are serialised).
type Signer struct {
	mu      sync.Mutex
	in      *instance
	version string
	secure  uint32            // SecureKey from loadToken
	derived map[string]uint32 // access token → Hmac instance
	release func()            // unmaps the module's bytes (OpenFile)
}

// Options configure Open.
type Options struct {
	Token   string                  // the extension's static token (default: 3.7.2's)
	Version string                  // extension version (default 3.7.2)
	Cache   wazero.CompilationCache // compiled-code cache (nil: compile every time)
	// AllowUnknownBuild skips the hash check.
	AllowUnknownBuild bool
	// SHA256, if set, is the module's hash as verified at import (skips re-hashing).
	SHA256 string
	// StateDir, if set, keeps a snapshot of the module's state after
	// SecureKey.loadToken there, so later starts skip that slow step.
	StateDir string
}

// OpenFile maps the module file (rather than copying it onto the heap: a
// cron run's start-up is mostly first touches of memory) and opens it.
func OpenFile(ctx context.Context, path string, o Options) (*Signer, error) {
	wasm, release, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Open(ctx, wasm, o)
	if err != nil {
		release()
		return nil, err
	}
	s.release = release
	return s, nil
}

// snapshotUnknownBuilds lets tests snapshot the project's own test module.
var snapshotUnknownBuilds = false

// Open loads the module bytes and prepares the signing key. The bytes must
// stay unchanged until Close.
func Open(ctx context.Context, wasm []byte, o Options) (*Signer, error) {
	var sum [32]byte
	if b, err := hex.DecodeString(o.SHA256); err == nil && len(b) == 32 {
		copy(sum[:], b)
	} else {
		sum = sha256.Sum256(wasm)
	}
	known := KnownBuilds[fmt.Sprintf("%x", sum)] != ""
	if !known && !o.AllowUnknownBuild {
		return nil, ErrUnknownBuild
	}
	if o.Token == "" {
		o.Token = DefaultToken
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	in, err := instantiate(ctx, wasm, Origin, o.Cache)
	if err != nil {
		return nil, err
	}
	s := &Signer{in: in, version: o.Version, derived: map[string]uint32{}}
	sk := in.h.reg.classes["SecureKey"]
	if sk == nil || sk.statics["loadToken"] == nil || sk.methods["deriveKey"] == nil ||
		in.h.reg.classes["Hmac"] == nil || in.h.reg.classes["Hmac"].ctors[1] == nil || in.h.reg.classes["Hmac"].methods["digest"] == nil {
		in.close(ctx)
		return nil, fmt.Errorf("wasmsign: the module does not register SecureKey/Hmac as expected")
	}
	var snap string
	if o.StateDir != "" && (known || snapshotUnknownBuilds) {
		snap = snapshotPath(o.StateDir, sum, o.Token, o.Version)
		if ptr, err := in.loadSnapshot(snap); err == nil {
			s.secure = ptr
			return s, nil
		}
	}
	var base []byte
	if snap != "" {
		base = in.memoryImage()
	}
	v, err := in.h.call(ctx, sk.statics["loadToken"], nil, o.Token)
	if err != nil {
		in.close(ctx)
		return nil, fmt.Errorf("wasmsign: SecureKey.loadToken: %w", err)
	}
	s.secure = v.(uint32)
	if snap != "" {
		_ = in.saveSnapshot(snap, base, s.secure) // a failed save only costs time next run
	}
	return s, nil
}

// hmacFor returns the Hmac instance for an access token (derived once).
func (s *Signer) hmacFor(ctx context.Context, accessToken string) (uint32, error) {
	if h, ok := s.derived[accessToken]; ok {
		return h, nil
	}
	reg := s.in.h.reg
	cv := sha256.Sum256([]byte(s.version))
	at := sha256.Sum256([]byte(accessToken))
	dk, err := s.in.h.call(ctx, reg.classes["SecureKey"].methods["deriveKey"], &s.secure, cv[:], at[:])
	if err != nil {
		return 0, fmt.Errorf("wasmsign: deriveKey: %w", err)
	}
	hm, err := s.in.h.call(ctx, reg.classes["Hmac"].ctors[1], nil, dk.(uint32))
	// Hmac takes the derived key by value (a copy): delete ours.
	if derr := s.in.h.destroy(ctx, reg.classes["SecureKey"], dk.(uint32)); err == nil && derr != nil {
		err = derr
	}
	if err != nil {
		return 0, fmt.Errorf("wasmsign: new Hmac: %w", err)
	}
	if len(s.derived) >= 64 { // tokens change weekly; a long-lived agent must not fill the module's memory
		for _, old := range s.derived {
			_ = s.in.h.destroy(ctx, reg.classes["Hmac"], old)
		}
		clear(s.derived)
	}
	s.derived[accessToken] = hm.(uint32)
	return hm.(uint32), nil
}

// Sign returns the x-hmac for one request.
func (s *Signer) Sign(ctx context.Context, r lineapi.SignRequest) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Version != "" && r.Version != s.version {
		return "", fmt.Errorf("wasmsign: request for version %s, module is %s", r.Version, s.version)
	}
	hm, err := s.hmacFor(ctx, r.AccessToken)
	if err != nil {
		return "", err
	}
	out, err := s.in.h.call(ctx, s.in.h.reg.classes["Hmac"].methods["digest"], &hm, []byte(r.Path+r.Body))
	if err != nil {
		return "", fmt.Errorf("wasmsign: digest: %w", err)
	}
	sig, ok := out.([]byte)
	if !ok || len(sig) != 32 {
		return "", fmt.Errorf("wasmsign: digest returned %T (%d bytes), want 32 bytes", out, len(sig))
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Close releases the module.
func (s *Signer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.in != nil {
		s.in.close(context.Background())
		s.in = nil
	}
	if s.release != nil {
		s.release()
		s.release = nil
	}
	return nil
}
