package cmd

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/botapi"
	"github.com/linectl/linectl/internal/state"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
	"github.com/linectl/linectl/pkg/lineapi/obs"
	"github.com/linectl/linectl/pkg/lineapi/stream"
)

// The webhooks of serve: the operation stream, read as 'linectl receive'
// reads it, made into LINE's webhook events for each token with a webhook.
// The position (bot-webhooks.json beside the config, state.Webhooks) moves only past an
// operation every webhook took, or gave up on after WebhookAttempts calls;
// "attempted" remembers an operation whose events went out at least once,
// so that after a restart they go out again with isRedelivery true.

// webhookLine is printed for every webhook call.
type webhookLine struct {
	Type       string `json:"type"` // "webhook"
	TokenID    string `json:"tokenId"`
	Revision   string `json:"revision"`
	Events     int    `json:"events"`
	Attempt    int    `json:"attempt"`
	Redelivery bool   `json:"redelivery"`
	Status     int    `json:"status,omitempty"`
	Error      string `json:"error,omitempty"`
	GaveUp     bool   `json:"gaveUp,omitempty"`
}

// maxContentBytes bounds a message content served from memory.
const maxContentBytes = 100 << 20

// heardMedia is an image or file message the webhooks heard: what GET
// /v2/bot/message/{id}/content downloads.
type heardMedia struct {
	chat string
	ref  mediaRef
	ct   int
}

// runWebhooks follows the stream while a token has a webhook, until ctx
// ends. It returns an error only when it cannot go on (a corrupt state
// file, the session ended).
func (b *botServer) runWebhooks(ctx context.Context) error {
	for {
		toks, _, err := b.tokens.Webhooks()
		if err == nil && len(toks) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	// One dispatcher per config: a second serve would call every webhook twice.
	unlock, err := b.hooks.Lock()
	if errors.Is(err, state.ErrLocked) {
		b.f.progress("linectl: serve: another 'linectl serve' calls this config's webhooks; this one does not (it serves the API)")
		<-ctx.Done()
		return nil
	}
	if err != nil {
		return err
	}
	defer unlock()
	cl, me := b.ss.cl, b.ss.s.From
	from, attempted, saved, err := b.hooks.Load(me)
	if err != nil {
		return err
	}
	if !saved {
		if from, err = cl.GetLastOpRevision(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := b.hooks.Save(me, from, 0); err != nil {
			return err
		}
	} else if latest, err := cl.GetLastOpRevision(ctx); err == nil {
		if err := checkSavedRevision(b.hooks.Name(), from, latest); err != nil {
			return err
		}
	}
	hc := botapi.NewWebhookClient()
	pos := from
	fw := &stream.Follower{
		Open: cl, From: from, Follow: true,
		OnOp: func(op *stream.Operation, _ []byte) error {
			if err := b.handleOp(ctx, hc, me, op, op.Revision <= attempted); err != nil {
				return err
			}
			pos = op.Revision
			return nil
		},
		OnIdle: func(rev int64) error {
			if rev > pos {
				pos = rev
			}
			if err := b.hooks.Save(me, pos, 0); err != nil {
				b.f.progress("linectl: serve: webhook position not saved: %v", err)
			}
			return nil
		},
		OnNotice: func(n stream.Notice) {
			if n.Event != "reconnect" {
				b.f.progress("linectl: serve: webhooks: %s: %s", n.Event, lineapi.SafeText(n.Detail))
			}
		},
		Latest: cl.GetLastOpRevision,
		OnAuthExpired: func(ctx context.Context) error {
			src := b.f.Session()
			_, err := src.Refresh(ctx, src.Tokens().AccessToken)
			return err
		},
	}
	err = fw.Run(ctx)
	if ctx.Err() != nil {
		return nil // stopped: the position is where the last delivered operation left it
	}
	return err
}

// handleOp tells every webhook whose token may use the chat, retrying each
// with backoff; the position is saved past op once all took it or gave up.
func (b *botServer) handleOp(ctx context.Context, hc *http.Client, me string, op *stream.Operation, redelivery bool) error {
	text, sealed := "", op.Message != nil && op.Message.Sealed()
	if si := openSealed(ctx, b.ss.sealer, op.Message); si != nil && si.decrypted {
		text = si.text
	}
	h := botapi.HeardOf(op, me, text, sealed)
	if h == nil {
		return nil
	}
	if h.Kind == "message" {
		if ct := op.Message.ContentType; lineapi.IsMedia(ct) {
			if r, err := mediaRefOf(op.Message); err == nil {
				b.remember(h.MessageID, heardMedia{chat: h.Chat, ref: r, ct: ct})
			}
		}
	}
	toks, secrets, err := b.tokens.Webhooks()
	if err != nil {
		b.f.progress("linectl: serve: webhooks: %v", err)
		return nil
	}
	var targets []botapi.Token
	for _, t := range toks {
		if t.May(h.Chat) {
			targets = append(targets, t)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	if err := b.hooks.Save(me, op.Revision-1, op.Revision); err != nil {
		b.f.progress("linectl: serve: webhook position not saved: %v", err)
	}
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		go func(t botapi.Token) {
			defer wg.Done()
			b.deliver(ctx, hc, me, t, secrets[t.Hash], h, redelivery)
		}(t)
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err() // not every webhook took it: the position stays before it
	}
	if err := b.hooks.Save(me, op.Revision, 0); err != nil {
		b.f.progress("linectl: serve: webhook position not saved: %v", err)
	}
	return nil
}

// deliver calls one webhook until it answers 2xx or WebhookAttempts calls
// failed.
func (b *botServer) deliver(ctx context.Context, hc *http.Client, me string, t botapi.Token, secret string, h *botapi.Heard, redelivery bool) {
	rt := ""
	if h.Replyable() {
		rt = b.api.AddReplyToken(t.Hash, h.Chat)
	}
	delay := b.opts.WebhookBackoff
	for attempt := 1; ; attempt++ {
		ev := botapi.EventOf(h, t.Hash, rt, redelivery || attempt > 1)
		status, err := botapi.Post(ctx, hc, t.Webhook, secret, me, []map[string]any{ev})
		l := webhookLine{Type: "webhook", TokenID: t.ID(), Revision: strconv.FormatInt(h.Revision, 10), Events: 1, Attempt: attempt,
			Redelivery: redelivery || attempt > 1, Status: status}
		if err == nil {
			_ = b.f.Out().line(l)
			return
		}
		l.Error = err.Error()
		l.GaveUp = attempt >= botapi.WebhookAttempts
		_ = b.f.Out().line(l)
		if l.GaveUp || ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// remember keeps the last 1000 media messages heard.
func (b *botServer) remember(id string, m heardMedia) {
	b.mediaMu.Lock()
	defer b.mediaMu.Unlock()
	if b.media == nil {
		b.media = map[string]heardMedia{}
	}
	if _, ok := b.media[id]; !ok {
		b.mediaOrder = append(b.mediaOrder, id)
	}
	b.media[id] = m
	for len(b.mediaOrder) > 1000 {
		delete(b.media, b.mediaOrder[0])
		b.mediaOrder = b.mediaOrder[1:]
	}
}

// content is a message's image or file the webhooks heard, downloaded
// from LINE's storage (and opened when sealed).
func (b *botServer) content(ctx context.Context, id string) ([]byte, string, string, error) {
	b.mediaMu.Lock()
	m, ok := b.media[id]
	b.mediaMu.Unlock()
	if !ok {
		return nil, "", "", botapi.ErrNotFound
	}
	r := m.ref
	if r.sealed != nil {
		km, _, err := openMediaKey(ctx, b.ss.sealer, r.sealed)
		if err != nil {
			return nil, "", "", err
		}
		r.keyMat = km
	}
	var buf bytes.Buffer
	var w interface{ Write([]byte) (int, error) } = &buf
	var dec *obs.Decrypter
	var err error
	if r.keyMat != nil {
		if dec, err = obs.NewDecrypter(r.keyMat, &buf); err != nil {
			return nil, "", "", err
		}
		w = dec
	}
	limit := int64(maxContentBytes)
	if r.size > 0 && r.size < limit {
		limit = r.size
	}
	if r.keyMat != nil {
		limit += obs.TagSize
	}
	if _, err := b.ss.store.Download(ctx, r.path, obs.TalkMeta(r.id), w, limit); err != nil {
		return nil, "", "", err
	}
	if dec != nil {
		if err := dec.Close(); err != nil {
			return nil, "", "", err
		}
	}
	ct := http.DetectContentType(buf.Bytes())
	if m.ct == lineapi.ContentFile && !bytes.HasPrefix([]byte(ct), []byte("image/")) {
		ct = "application/octet-stream"
	}
	return buf.Bytes(), ct, m.chat, nil
}

// composeFunc turns a reply (quoteToken) or a textV2 with mentions into
// what the sender sends: the reply relation and the MENTION metadata of
// 'linectl send --reply-to/--mention'.
func composeFunc() func(botapi.Message, string) (delivery.Content, error) {
	return func(m botapi.Message, chat string) (delivery.Content, error) {
		var c delivery.Content
		switch {
		case m.Sticker != nil:
			c = delivery.Sticker{Sticker: *m.Sticker}
		case len(m.Mentions) > 0:
			if tt, _ := lineapi.ParseMID(chat); tt == lineapi.ToUser {
				return nil, errors.New("mentions are for groups and rooms: this chat is a user")
			}
			ms := make([]lineapi.Mentionee, len(m.Mentions))
			for i, x := range m.Mentions {
				ms[i] = lineapi.Mentionee{Start: x.S, End: x.E, MID: x.UserID, All: x.All}
			}
			c = delivery.Text{Text: m.Text, Mention: lineapi.MentionMetadata(ms)}
		default:
			c = delivery.Text{Text: m.Text}
		}
		if m.QuoteToken != "" {
			_, id, _ := botapi.ParseQuoteToken(m.QuoteToken)
			c = delivery.Reply{To: id, Content: c}
		}
		return c, nil
	}
}
