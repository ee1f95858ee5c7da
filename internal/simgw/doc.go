// Package simgw is linectl's gateway simulator: a real HTTP server that
// follows docs/protocol.md and rejects what LINE's gateway rejects — wrong body
// shapes, missing headers, bad x-hmac (when a signing key is set, using the
// scheme of package simsign), unknown or expired tokens, reused RSA keys,
// out-of-order login steps. Tests run the real client and the built binary
// against it, and users run it as `linectl sandbox`.
//
// A simulated phone scans QR codes and confirms PINs, automatically after
// Options.PhoneDelay or when told (Scan, ConfirmPIN, or the /_sandbox/ admin
// endpoints). Fault knobs make calls fail the ways networks and LINE do.
//
// # Layout
//
// Server (server.go; its answers and errors: envelope.go) is the routing
// server: it owns the listener, the route table and the shared state, and
// routes each request — /_sandbox/ to the admin endpoints (admin.go), the
// operation stream, OBS (/r/), and every other /api/ path through the route
// table (routes.go), where validate makes the checks every call shares
// (headers, x-hmac, body shape, arity, access token) before the call's
// handler runs. Behind it, one type per
// concern, each in its own files and each registering its own routes
// (addRoutes):
//
//   - authPhone (auth.go, qr.go, faults_refresh.go): the RSA key, loginV2,
//     QR sessions, PINs, the long polls, token refresh and rotation, and the
//     simulated phone. Owns the RSA keys, verifiers, QR sessions, access and
//     refresh tokens and certificates.
//   - talkStream (talk.go, messages.go, stream.go): profile and chat
//     lookups, sendMessage (its per-kind checks: the kinds table),
//     injected messages and the operation stream.
//   - sealing (seal.go, seal_keys.go): Letter Sealing keys and key chains,
//     group keys, negotiateE2EEPublicKey and the other key calls, opening a
//     sealed message as its recipient would and sealing injected ones. Owns
//     the group keys and the chats' allowedTypes.
//   - objectStore (obs.go, media.go): LINE's object storage (uploads,
//     downloads, OBS tokens) and media messages. Owns the OBS tokens and
//     objects.
//   - convos (conversation.go, history.go): replies and mentions (checked
//     for sendMessage), unsend, reactions, history and read marks. Owns the
//     unsent marks, reactions and read marks.
//   - faultAdmin (faults.go, faults_list.go, faults_refresh.go's refresh
//     faults): fault rules and the other knobs tests and `linectl sandbox
//     fault` arm. The /_sandbox/ endpoints (admin.go) stay the Server's:
//     they drive every concern's exported controls.
//
// What every concern shares — accounts and chats (accounts.go), stored
// messages, the messages the streams carried, the operation streams and
// their revision, the clock, the calls received and the armed faults — is
// the state (state.go), which every concern embeds; a concern calls another
// only through the field that names it (talkStream.seal, …), set in New.
// Server embeds every concern, so their exported methods are the Server's.
//
// One lock: state.mu guards the state and every concern's own fields. A
// handler takes it for what it reads and writes, and never holds it while
// it waits: long polls and the stream wait on wake, which broadcast closes
// whenever something changes. Methods whose doc says "Caller holds s.mu"
// expect it held.
//
// # Adding a gateway call
//
// Write the handler, func(*request) (any, error), as a method of the
// concern it belongs to, in that concern's file; add one line to the
// concern's addRoutes (r.thrift(service, method, handler, arity, auth), or
// r.add for a path outside Thrift); and a test in this package showing what
// the real gateway refuses is refused. A new concern is a type in state.go,
// a field of Server and a line in Server.register.
package simgw
