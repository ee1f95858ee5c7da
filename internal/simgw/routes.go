package simgw

import "strings"

// handler is one gateway call: how it is reached and what checks the router
// makes before fn runs (validate).
type handler struct {
	name   string // the method as Calls and faults name it
	fn     func(*request) (any, error)
	http   string // "POST" or "GET"
	arity  int    // number of positional args; -1 = any
	auth   bool
	object bool // body is a JSON object, not an array
}

const thriftPrefix = "/api/talk/thrift/"

// services are the Thrift services the gateway knows: an unknown method of
// one is 10101 THRIFT_INVALID_METHOD, anything else 10001.
var services = map[string]bool{
	"Talk/TalkService": true, "Talk/AuthService": true,
	"LoginQrCode/SecondaryQrCodeLoginService": true, "LoginQrCode/SecondaryQrCodeLoginPermitNoticeService": true,
}

// routes is the table the concerns fill: request path → handler.
type routes map[string]handler

// thrift registers POST /api/talk/thrift/<service>/<method> with arity
// positional arguments, behind an access token when auth.
func (r routes) thrift(service, method string, fn func(*request) (any, error), arity int, auth bool) {
	if !services[service] {
		panic("simgw: unknown service " + service)
	}
	r.add(thriftPrefix+service+"/"+method, handler{name: method, fn: fn, http: "POST", arity: arity, auth: auth})
}

func (r routes) add(path string, h handler) {
	if _, dup := r[path]; dup || !strings.HasPrefix(path, "/api/") {
		panic("simgw: route registered twice or outside /api/: " + path)
	}
	r[path] = h
}

// register builds the route table: each concern adds its own calls.
func (s *Server) register() routes {
	r := routes{}
	const (
		talkSvc = "Talk/TalkService"
		authSvc = "Talk/AuthService"
		qrs     = "LoginQrCode/SecondaryQrCodeLoginService"
		qrn     = "LoginQrCode/SecondaryQrCodeLoginPermitNoticeService"
	)
	r.thrift(talkSvc, "getRSAKeyInfo", s.getRSAKeyInfo, 1, false)
	r.thrift(authSvc, "loginV2", s.loginV2, 1, false)
	r.thrift(authSvc, "logoutV2", s.logoutV2, 0, true)
	r.thrift(authSvc, "confirmE2EELogin", s.confirmE2EELogin, 2, false)
	r.thrift(talkSvc, "getProfile", s.getProfile, 1, true)
	r.thrift(talkSvc, "getLastOpRevision", s.getLastOpRevision, 0, true)
	r.thrift(talkSvc, "getAllChatMids", s.getAllChatMids, 2, true)
	r.thrift(talkSvc, "getChats", s.getChats, 2, true)
	r.thrift(talkSvc, "getAllContactIds", s.getAllContactIds, 1, true)
	r.thrift(talkSvc, "getContactsV2", s.getContactsV2, 2, true)
	r.thrift(talkSvc, "sendMessage", s.sendMessage, 2, true)
	r.thrift(talkSvc, "negotiateE2EEPublicKey", s.negotiateE2EEPublicKey, 1, true)
	r.thrift(talkSvc, "getLastE2EEGroupSharedKey", s.getLastE2EEGroupSharedKey, 2, true)
	r.thrift(talkSvc, "getLastE2EEPublicKeys", s.getLastE2EEPublicKeys, 1, true)
	r.thrift(talkSvc, "registerE2EEGroupKey", s.registerE2EEGroupKey, 5, true)
	r.thrift(talkSvc, "getE2EEPublicKey", s.getE2EEPublicKey, 3, true)
	r.thrift(talkSvc, "getE2EEGroupSharedKey", s.getE2EEGroupSharedKey, 3, true)
	r.thrift(talkSvc, "acquireEncryptedAccessToken", s.acquireEncryptedAccessToken, 1, true)
	r.thrift(talkSvc, "determineMediaMessageFlow", s.determineMediaMessageFlow, 1, true)
	r.thrift(talkSvc, "unsendMessage", s.unsendMessage, 2, true)
	r.thrift(talkSvc, "react", s.react, 1, true)
	r.thrift(talkSvc, "cancelReaction", s.cancelReaction, 1, true)
	r.thrift(talkSvc, "getRecentMessagesV2", s.getRecentMessagesV2, 2, true)
	r.thrift(talkSvc, "getPreviousMessagesV2WithRequest", s.getPreviousMessagesV2WithRequest, 2, true)
	r.thrift(talkSvc, "sendChatChecked", s.sendChatChecked, -1, true)
	r.thrift(qrs, "createSession", s.createSession, 1, false)
	r.thrift(qrs, "createQrCode", s.createQrCode, 1, false)
	r.thrift(qrs, "verifyCertificate", s.verifyCertificate, 1, false)
	r.thrift(qrs, "createPinCode", s.createPinCode, 1, false)
	r.thrift(qrs, "qrCodeLoginV2", s.qrCodeLoginV2, 1, false)
	r.thrift(qrn, "checkQrCodeVerified", s.checkQrCodeVerified, 1, false)
	r.thrift(qrn, "checkPinCodeVerified", s.checkPinCodeVerified, 1, false)
	r.add("/api/auth/tokenRefresh", handler{name: "tokenRefresh", fn: s.tokenRefresh, http: "POST", object: true})
	r.add("/api/talk/long-polling/JQ", handler{name: "long-polling/JQ", fn: s.pollJQ, http: "GET"})
	r.add("/api/talk/long-polling/LF1", handler{name: "long-polling/LF1", fn: s.pollJQ, http: "GET"})
	return r
}
