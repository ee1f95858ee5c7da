package simgw

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// qrSession is one QR login.
type qrSession struct {
	id           string
	qrCreated    bool
	scanned      bool
	scanner      string // MID of the scanning phone
	publicKey    []byte // from the scanned URL's secret
	certVerified bool
	pin          string
	pinConfirmed bool
	done         bool
}

func decodeSession(raw json.RawMessage) (string, error) {
	var a struct {
		AuthSessionID *string `json:"authSessionId"`
	}
	if err := json.Unmarshal(raw, &a); err != nil || a.AuthSessionID == nil {
		return "", gw(10102)
	}
	return *a.AuthSessionID, nil
}

// session returns the QR session or INVALID_CONTEXT. Caller holds s.mu.
func (s *authPhone) session(id string) (*qrSession, error) {
	q := s.qr[id]
	if q == nil || q.done {
		return nil, qrErr(100, "invalid context")
	}
	return q, nil
}

func (s *authPhone) createSession(req *request) (any, error) {
	if strings.TrimSpace(string(req.args[0])) != "{}" {
		return nil, gw(10102)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := "SQ" + randomID(24)
	s.qr[id] = &qrSession{id: id}
	return map[string]any{"authSessionId": id}, nil
}

func (s *authPhone) createQrCode(req *request) (any, error) {
	id, err := decodeSession(req.args[0])
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.session(id)
	if err != nil {
		return nil, err
	}
	q.qrCreated = true
	if !s.opts.ManualScan {
		s.phoneLater(func() {
			if !q.scanned {
				q.scanned, q.scanner = true, s.phoneMID()
			}
		})
	}
	return map[string]any{"callbackUrl": "https://line.me/R/au/lgn/sq/" + id, "longPollingMaxCount": 2, "longPollingIntervalSec": 150}, nil
}

// phoneMID is the account whose phone scans. Caller holds s.mu.
func (s *authPhone) phoneMID() string {
	if s.opts.PhoneMID != "" {
		return s.opts.PhoneMID
	}
	if len(s.order) > 0 {
		return s.order[0]
	}
	return ""
}

// pollQR is a permit-notice long-poll: x-line-session-id must be the session.
func (s *authPhone) pollQR(req *request, cond func(q *qrSession) bool) (any, error) {
	id, err := decodeSession(req.args[0])
	if err != nil {
		return nil, err
	}
	if req.r.Header.Get("x-line-session-id") != id {
		return nil, gw(10105 - 0) // THRIFT_NO_AUTH_SESSION_ID
	}
	lst, err := strconv.Atoi(req.r.Header.Get("x-lst"))
	if err != nil || lst <= 0 {
		return nil, gw(10003)
	}
	ok, err := s.waitFor(req.r, lst, func() (bool, error) {
		q, err := s.session(id)
		if err != nil {
			return false, err
		}
		return cond(q), nil
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &gwErr{code: 10052, message: "RESPONSE_HTTP_ERROR", status: 410}
	}
	return map[string]any{}, nil
}

func (s *authPhone) checkQrCodeVerified(req *request) (any, error) {
	return s.pollQR(req, func(q *qrSession) bool { return q.scanned })
}

func (s *authPhone) checkPinCodeVerified(req *request) (any, error) {
	return s.pollQR(req, func(q *qrSession) bool { return q.pinConfirmed })
}

func (s *authPhone) verifyCertificate(req *request) (any, error) {
	var a struct {
		AuthSessionID *string `json:"authSessionId"`
		Certificate   *string `json:"certificate"`
	}
	if err := json.Unmarshal(req.args[0], &a); err != nil || a.AuthSessionID == nil || a.Certificate == nil {
		return nil, gw(10102)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.session(*a.AuthSessionID)
	if err != nil {
		return nil, err
	}
	if !q.scanned {
		return nil, qrErr(100, "invalid context")
	}
	if *a.Certificate == "" || s.certs[*a.Certificate] != q.scanner {
		return nil, qrErr(2, "verification failed")
	}
	q.certVerified = true
	return map[string]any{}, nil
}

func (s *authPhone) createPinCode(req *request) (any, error) {
	id, err := decodeSession(req.args[0])
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.session(id)
	if err != nil {
		return nil, err
	}
	if !q.scanned {
		return nil, qrErr(100, "invalid context")
	}
	q.pin = randomDigits(6)
	s.phoneLater(func() { q.pinConfirmed = true })
	return map[string]any{"pinCode": q.pin}, nil
}

func (s *authPhone) qrCodeLoginV2(req *request) (any, error) {
	var a struct {
		SystemName          *string `json:"systemName"`
		ModelName           *string `json:"modelName"`
		AutoLoginIsRequired *bool   `json:"autoLoginIsRequired"`
		AuthSessionID       *string `json:"authSessionId"`
	}
	if err := json.Unmarshal(req.args[0], &a); err != nil || a.AuthSessionID == nil || a.SystemName == nil ||
		a.ModelName == nil || a.AutoLoginIsRequired == nil {
		return nil, gw(10102)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.session(*a.AuthSessionID)
	if err != nil {
		return nil, err
	}
	if !q.scanned || !(q.certVerified || q.pinConfirmed) {
		return nil, qrErr(100, "invalid context")
	}
	q.done = true
	cert := "cert." + randomID(24)
	s.certs[cert] = q.scanner
	meta := map[string]any{"errorCode": "NO_PUBLIC_KEY"}
	if len(q.publicKey) == 32 {
		meta = s.seal.keyChainFor(q.scanner, q.publicKey)
	}
	sc := s.loginSuccess(q.scanner, "")
	r := map[string]any{"certificate": cert, "tokenV3IssueResult": sc.data.(map[string]any)["tokenV3IssueResult"],
		"mid": q.scanner, "lastBindTimestamp": "1534608800980", "metaData": meta}
	sc.data = r
	return sc, nil
}

// Scan makes the phone scan a QR code: url is what the client printed
// (callback URL + secret + e2eeVersion=1), or "" for the newest QR code.
func (s *authPhone) Scan(rawURL string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var q *qrSession
	var pub []byte
	if rawURL != "" {
		u, err := url.Parse(rawURL)
		if err != nil || !strings.HasPrefix(rawURL, "https://line.me/R/au/lgn/sq/") {
			return errf("not a LINE QR login URL")
		}
		id := strings.TrimPrefix(u.Path, "/R/au/lgn/sq/")
		if q = s.qr[id]; q == nil || !q.qrCreated {
			return errf("unknown QR session")
		}
		if u.Query().Get("e2eeVersion") != "1" {
			return errf("the phone reports an error: e2eeVersion=1 missing from the QR URL")
		}
		if pub, err = base64.StdEncoding.DecodeString(u.Query().Get("secret")); err != nil || len(pub) != 32 {
			return errf("the phone reports an error: secret is not a base64 32-byte public key")
		}
	} else {
		for _, c := range s.qr {
			if c.qrCreated && !c.scanned && !c.done {
				q = c
			}
		}
		if q == nil {
			return errf("no QR code waiting to be scanned")
		}
	}
	q.scanned, q.scanner, q.publicKey = true, s.phoneMID(), pub
	s.broadcast()
	return nil
}

// ConfirmPIN makes the phone confirm a PIN (of a QR or password login).
func (s *authPhone) ConfirmPIN(pin string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.qr {
		if q.pin != "" && q.pin == pin && !q.done {
			q.pinConfirmed = true
			s.broadcast()
			return nil
		}
	}
	for _, p := range s.verifier {
		if p.pin == pin && !p.finished && !p.e2ee {
			p.confirmed = true
			s.broadcast()
			return nil
		}
	}
	for _, p := range s.verifier {
		if p.e2ee && !p.confirmed && !p.finished {
			if err := s.confirmSealedPIN(p, pin); err != nil {
				return err
			}
			s.broadcast()
			return nil
		}
	}
	return errf("no login is waiting for PIN %s", pin)
}

// PendingPIN returns a PIN the phone is waiting to confirm ("" if none).
func (s *authPhone) PendingPIN() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.qr {
		if q.pin != "" && !q.pinConfirmed && !q.done {
			return q.pin
		}
	}
	for _, p := range s.verifier {
		if !p.confirmed && !p.finished && !p.e2ee {
			return p.pin
		}
	}
	return ""
}
