package simgw

import (
	"crypto/aes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// addRoutes registers the login calls, the token refresh and the long polls.
func (s *authPhone) addRoutes(r routes) {
	r.thrift(talkSvc, "getRSAKeyInfo", s.getRSAKeyInfo, 1, false)
	r.thrift(authSvc, "loginV2", s.loginV2, 1, false)
	r.thrift(authSvc, "logoutV2", s.logoutV2, 0, true)
	r.thrift(authSvc, "confirmE2EELogin", s.confirmE2EELogin, 2, false)
	r.add("/api/auth/tokenRefresh", handler{name: "tokenRefresh", fn: s.tokenRefresh, http: "POST", object: true})
	r.add("/api/talk/long-polling/JQ", handler{name: "long-polling/JQ", fn: s.pollJQ, http: "GET"})
	r.add("/api/talk/long-polling/LF1", handler{name: "long-polling/LF1", fn: s.pollJQ, http: "GET"})
	r.thrift(qrSvc, "createSession", s.createSession, 1, false)
	r.thrift(qrSvc, "createQrCode", s.createQrCode, 1, false)
	r.thrift(qrSvc, "verifyCertificate", s.verifyCertificate, 1, false)
	r.thrift(qrSvc, "createPinCode", s.createPinCode, 1, false)
	r.thrift(qrSvc, "qrCodeLoginV2", s.qrCodeLoginV2, 1, false)
	r.thrift(qrnSvc, "checkQrCodeVerified", s.checkQrCodeVerified, 1, false)
	r.thrift(qrnSvc, "checkPinCodeVerified", s.checkPinCodeVerified, 1, false)
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func serverRSA() *rsa.PrivateKey {
	rsaOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return rsaKey
}

type rsaSession struct {
	sessionKey string
	used       bool
}

// pending is a password login waiting for the phone to confirm the PIN.
type pending struct {
	mid       string
	pin       string
	confirmed bool
	finished  bool
	// Letter Sealing password login: the client's PIN-encrypted login key.
	e2ee       bool
	secret     []byte
	loginPub   []byte
	meta       map[string]any
	deviceHash []byte
	sealedOK   bool
}

type token struct {
	mid       string
	expires   time.Time
	expired   bool
	kicked    bool
	loggedOut bool
	refresh   string
}

type refreshTok struct {
	mid    string
	used   bool
	access string
	issued map[string]any // the answer that retired it (faults_refresh.go)
}

// issueTokens creates a token set for mid. Caller holds s.mu.
func (s *authPhone) issueTokens(mid string) map[string]any {
	now := s.now()
	at := "sim." + randomID(24)
	rt := "simr." + randomID(24)
	s.tokens[at] = &token{mid: mid, expires: now.Add(s.opts.AccessTokenTTL), refresh: rt}
	s.refresh[rt] = &refreshTok{mid: mid, access: at}
	return map[string]any{
		"accessToken": at, "refreshToken": rt,
		"durationUntilRefreshInSec": strconv.FormatInt(int64(s.opts.RefreshAfter/time.Second), 10),
		"refreshApiRetryPolicy":     map[string]any{"initialDelayInMillis": "100", "maxDelayInMillis": "1000", "multiplier": 2.0, "jitterRate": 0.1},
		"loginSessionId":            "ls." + randomID(8),
		"tokenIssueTimeEpochSec":    strconv.FormatInt(now.Unix(), 10),
	}
}

func (s *authPhone) getRSAKeyInfo(req *request) (any, error) {
	var provider int
	if err := argInt(req.args[0], &provider); err != nil || provider != 1 {
		return nil, gw(10102)
	}
	k := serverRSA()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	keynm := strconv.FormatInt(15300+s.seq%1000, 10) + randomDigits(3)
	sk := randomID(12)
	s.rsaKeys[keynm] = &rsaSession{sessionKey: sk}
	return map[string]any{"keynm": keynm, "nvalue": k.N.Text(16), "evalue": strconv.FormatInt(int64(k.E), 16), "sessionKey": sk}, nil
}

func randomDigits(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// loginRequest is loginV2's argument; every field the extension sends is required.
type loginRequest struct {
	Type             *int    `json:"type"`
	IdentityProvider *int    `json:"identityProvider"`
	Identifier       *string `json:"identifier"`
	Password         *string `json:"password"`
	KeepLoggedIn     *bool   `json:"keepLoggedIn"`
	AccessLocation   *string `json:"accessLocation"`
	SystemName       *string `json:"systemName"`
	Certificate      *string `json:"certificate"`
	Verifier         *string `json:"verifier"`
	Secret           *string `json:"secret"`
	E2EEVersion      *int    `json:"e2eeVersion"`
	ModelName        *string `json:"modelName"`
}

func (l *loginRequest) complete() bool {
	return l.Type != nil && l.IdentityProvider != nil && l.Identifier != nil && l.Password != nil && l.KeepLoggedIn != nil &&
		l.AccessLocation != nil && l.SystemName != nil && l.Certificate != nil && l.Verifier != nil && l.Secret != nil &&
		l.E2EEVersion != nil && l.ModelName != nil
}

// decodePassword decrypts and parses the RSA blob:
// chr(len(sessionKey))+sessionKey+chr(len(email))+email+chr(len(password))+password.
func decodePassword(hexct string) (sessionKey, email, password string, err error) {
	ct, err := hex.DecodeString(hexct)
	if err != nil {
		return "", "", "", fmt.Errorf("password is not hex")
	}
	//lint:ignore SA1019 the simulator decrypts what LINE's protocol sends (RSA PKCS #1 v1.5)
	pt, err := rsa.DecryptPKCS1v15(nil, serverRSA(), ct)
	if err != nil {
		return "", "", "", fmt.Errorf("password does not decrypt")
	}
	var parts []string
	rest := string(pt)
	for i := 0; i < 3; i++ {
		r, size := utf8.DecodeRuneInString(rest)
		if r == utf8.RuneError || int(r) > len(rest)-size {
			return "", "", "", fmt.Errorf("password blob malformed")
		}
		parts = append(parts, rest[size:size+int(r)])
		rest = rest[size+int(r):]
	}
	if rest != "" {
		return "", "", "", fmt.Errorf("password blob has trailing bytes")
	}
	return parts[0], parts[1], parts[2], nil
}

func (s *authPhone) loginV2(req *request) (any, error) {
	var lr loginRequest
	if err := json.Unmarshal(req.args[0], &lr); err != nil || !lr.complete() {
		return nil, gw(10102)
	}
	if *lr.IdentityProvider != 1 {
		return nil, talk(0, "illegal identityProvider")
	}
	if *lr.Type == 1 { // finish with a confirmed verifier
		s.mu.Lock()
		defer s.mu.Unlock()
		p := s.verifier[*lr.Verifier]
		if p == nil || !p.confirmed || p.finished || (p.e2ee && !p.sealedOK) {
			return nil, talk(3, "invalid verifier")
		}
		p.finished = true
		cert := "cert." + randomID(24)
		s.certs[cert] = p.mid
		return s.loginSuccess(p.mid, cert), nil
	}
	if *lr.Type != 0 && *lr.Type != 2 {
		return nil, talk(0, "illegal login type")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.rsaKeys[*lr.Identifier]
	if k == nil || k.used {
		// A key is single-use (BEEPER): a reused or unknown keynm is refused.
		return nil, talk(18, "Invalid identity credential: RSA key not found or already used")
	}
	k.used = true
	sk, email, password, err := decodePassword(*lr.Password)
	if err != nil || sk != k.sessionKey {
		return nil, talk(18, "Invalid identity credential")
	}
	var acc *Account
	for _, a := range s.accounts {
		if a.Email == email {
			acc = a
		}
	}
	if acc == nil || acc.Password != password {
		return nil, talk(18, "Invalid identity credential")
	}
	if *lr.Type == 2 {
		if *lr.Secret == "" {
			return nil, talk(0, "secret required")
		}
		if !acc.LetterSealing {
			return nil, talk(89, "not supported")
		}
		sec, err := base64.StdEncoding.DecodeString(*lr.Secret)
		if err != nil || len(sec) != 32 {
			return nil, talk(0, "bad secret")
		}
		// The PIN is the client's: only the person sees it, so the phone
		// confirms it only when told (ConfirmPIN / /_sandbox/pin).
		v := "ver." + randomID(18)
		s.verifier[v] = &pending{mid: acc.MID, e2ee: true, secret: sec}
		return map[string]any{"verifier": v, "type": 3, "lastPrimaryBindTime": "0"}, nil
	}
	if c := *lr.Certificate; c != "" && s.certs[c] == acc.MID {
		return s.loginSuccess(acc.MID, ""), nil
	}
	v := "ver." + randomID(18)
	p := &pending{mid: acc.MID, pin: randomDigits(4)}
	s.verifier[v] = p
	s.phoneLater(func() { p.confirmed = true })
	return map[string]any{"verifier": v, "pinCode": p.pin, "type": 3, "lastPrimaryBindTime": "0"}, nil
}

// loginSuccess is a SUCCESS loginV2 answer that sets the lct cookie. Caller holds s.mu.
func (s *authPhone) loginSuccess(mid, cert string) setCookie {
	toks := s.issueTokens(mid)
	r := map[string]any{"type": 1, "lastPrimaryBindTime": "1483535856056", "tokenV3IssueResult": toks, "mid": mid}
	if cert != "" {
		r["certificate"] = cert
	}
	return setCookie{data: r, value: toks["accessToken"].(string)}
}

// phoneLater runs fn (under s.mu) after PhoneDelay, unless the phone is manual.
func (s *authPhone) phoneLater(fn func()) {
	if s.opts.PhoneDelay < 0 {
		return
	}
	time.AfterFunc(s.opts.PhoneDelay, func() {
		s.mu.Lock()
		fn()
		s.broadcast()
		s.mu.Unlock()
	})
}

// pollJQ is the password-login long-poll.
func (s *authPhone) pollJQ(req *request) (any, error) {
	v := req.r.Header.Get("x-line-session-id")
	lf1 := req.method == "long-polling/LF1"
	lst, err := strconv.Atoi(req.r.Header.Get("x-lst"))
	if v == "" || err != nil || lst <= 0 {
		return nil, gw(10003)
	}
	confirmed, err := s.waitFor(req.r, lst, func() (bool, error) {
		p := s.verifier[v]
		if p == nil || p.e2ee != lf1 {
			return false, talk(3, "invalid verifier")
		}
		return p.confirmed, nil
	})
	if err != nil {
		return nil, err
	}
	if !confirmed {
		return nil, &gwErr{code: 10052, message: "RESPONSE_HTTP_ERROR", status: 410}
	}
	result := map[string]any{"verifier": v, "authPhase": "QRCODE_VERIFIED"}
	if lf1 {
		s.mu.Lock()
		result["metadata"] = s.verifier[v].meta
		s.mu.Unlock()
	}
	return map[string]any{"result": result, "timestamp": strconv.FormatInt(s.now().UnixMilli(), 10)}, nil
}

// waitFor long-polls until cond holds, the window (x-lst ms, capped) ends,
// or the client goes away. cond runs under s.mu.
func (s *authPhone) waitFor(r *http.Request, lstMillis int, cond func() (bool, error)) (bool, error) {
	window := time.Duration(lstMillis) * time.Millisecond
	if s.opts.MaxPollWait > 0 && window > s.opts.MaxPollWait {
		window = s.opts.MaxPollWait
	}
	s.mu.Lock()
	if s.faults.expireWindows > 0 {
		s.faults.expireWindows--
		s.mu.Unlock()
		return false, nil
	}
	s.mu.Unlock()
	deadline := time.NewTimer(window)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		done, err := cond()
		wake := s.wake
		s.mu.Unlock()
		if err != nil || done {
			return done, err
		}
		select {
		case <-wake:
		case <-deadline.C:
			return false, nil
		case <-r.Context().Done():
			return false, nil
		}
	}
}

func (s *authPhone) logoutV2(req *request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[req.token]; t != nil {
		t.loggedOut = true
		delete(s.refresh, t.refresh)
	}
	return setCookie{data: nil, value: "", maxAge: -1}, nil
}

func (s *authPhone) tokenRefresh(req *request) (any, error) {
	var body struct {
		RefreshToken *string `json:"refreshToken"`
	}
	if err := json.Unmarshal(req.body, &body); err != nil || body.RefreshToken == nil {
		return nil, gw(10003)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.refreshRetry > 0 {
		s.faults.refreshRetry--
		return nil, gw(10202)
	}
	rt := s.refresh[*body.RefreshToken]
	if res, ok := s.replayRefresh(rt, req.token); ok { // faults_refresh.go: a lost answer's retry
		return res, nil
	}
	if rt == nil || rt.used {
		return nil, gw(10201) // unknown or already rotated away
	}
	if old := s.tokens[rt.access]; old != nil && old.kicked {
		return nil, talk(8, "V3_TOKEN_CLIENT_LOGGED_OUT")
	}
	if req.token != "" && req.token != rt.access {
		return nil, gw(10201)
	}
	res := s.issueTokens(rt.mid)
	s.retire(rt, res) // faults_refresh.go
	return res, nil
}

// confirmE2EELogin [verifier, deviceSecret]: the device secret must be the
// hashKeyChain of the key chain the phone sent.
func (s *authPhone) confirmE2EELogin(req *request) (any, error) {
	v, err := argString(req.args[0])
	if err != nil {
		return nil, err
	}
	ds, err := argString(req.args[1])
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.verifier[v]
	if p == nil || !p.e2ee || !p.confirmed {
		return nil, talk(3, "invalid verifier")
	}
	got, err := base64.StdEncoding.DecodeString(ds)
	if err != nil || string(got) != string(p.deviceHash) {
		return nil, talk(85, "device secret does not match the key chain")
	}
	p.sealedOK = true
	return v, nil
}

// confirmSealedPIN is the phone confirming a Letter Sealing password login
// with the PIN the person read: it recovers the login key and wraps the key
// chain for it. Caller holds s.mu.
func (s *authPhone) confirmSealedPIN(p *pending, pin string) error {
	blk, _ := aes.NewCipher(h256([]byte(pin)))
	pub := make([]byte, 32)
	blk.Decrypt(pub[:16], p.secret[:16])
	blk.Decrypt(pub[16:], p.secret[16:])
	meta := s.seal.keyChainFor(p.mid, pub)
	if meta["errorCode"] != "" {
		return errf("cannot make a key chain: %v", meta["errorCode"])
	}
	// What the client must answer in confirmE2EELogin.
	eph, _ := base64.StdEncoding.DecodeString(meta["publicKey"].(string))
	enc, _ := base64.StdEncoding.DecodeString(meta["encryptedKeyChain"].(string))
	shared, err := dhPub(s.seal.lastEph, pub)
	if err != nil || string(eph) != string(s.seal.lastEph.PublicKey().Bytes()) {
		return errf("key agreement failed")
	}
	hk, _ := aes.NewCipher(h256(shared, []byte("Key")))
	p.deviceHash = make([]byte, 16)
	hk.Encrypt(p.deviceHash, fold(h256(enc)))
	p.loginPub, p.meta, p.pin, p.confirmed = pub, meta, pin, true
	return nil
}

func dhPub(priv *ecdh.PrivateKey, pub []byte) ([]byte, error) { return dh(priv, pub) }
