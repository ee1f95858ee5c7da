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
var services = map[string]bool{talkSvc: true, authSvc: true, qrSvc: true, qrnSvc: true}

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

// Thrift services, as the route table names them.
const (
	talkSvc = "Talk/TalkService"
	authSvc = "Talk/AuthService"
	qrSvc   = "LoginQrCode/SecondaryQrCodeLoginService"
	qrnSvc  = "LoginQrCode/SecondaryQrCodeLoginPermitNoticeService"
)

// register builds the route table: each concern adds its own calls.
func (s *Server) register() routes {
	r := routes{}
	for _, c := range []interface{ addRoutes(routes) }{s.authPhone, s.talkStream, s.sealing, s.objectStore, s.convos} {
		c.addRoutes(r)
	}
	return r
}
