package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/lethe-privacy/lethe/retention"
)

// subprotocol is the only websocket protocol served: graphql-transport-ws,
// what the graphql-ws client (and Apollo Client, urql, GraphiQL) speaks.
// The older subscriptions-transport-ws ("graphql-ws") is unmaintained and
// is refused, like any other.
const subprotocol = "graphql-transport-ws"

// Close codes of graphql-transport-ws: the graphql-ws client reconnects
// after a normal close, but gives up, and reports the code, on these.
const (
	closeBadMessage      = 4400 // a message that is not the protocol's
	closeUnauthorized    = 4401 // subscribe before the connection was acknowledged
	closeForbidden       = 4403 // connection_init refused: no valid token
	closeSubprotocol     = 4406 // the client offered no protocol served here
	closeInitTimeout     = 4408 // no connection_init in time
	closeDuplicateID     = 4409 // a subscribe reusing the id of a running operation
	closeTooManyInits    = 4429 // a second connection_init
	closeInternalFailure = 4500 // the server failed (the token store)
)

// graphqlWS serves GraphQL over graphql-transport-ws exactly as the
// protocol describes, close codes included (gqlgen's transport closes
// every refusal with 1000, which the graphql-ws client retries at once,
// forever). A connection authenticates with the Authorization key of its
// connection_init payload: browsers cannot set headers on a websocket.
//
// A connection's token is checked again, uncached, before each operation
// and every authCheck while it is open: a revoked token's connection, or
// one whose role was lowered, is closed with 4403 at its next operation or
// within authCheck, whichever comes first; a raised role applies to the
// operations that follow.
type graphqlWS struct {
	auth        Authenticator
	origins     []string
	initTimeout time.Duration
	ping        time.Duration
	authCheck   time.Duration
	log         *slog.Logger
}

var _ graphql.Transport = graphqlWS{}

func (graphqlWS) Supports(r *http.Request) bool { return isWebsocket(r) }

// wsMessage is one message of the protocol.
type wsMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (t graphqlWS) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	opts := &websocket.AcceptOptions{Subprotocols: []string{subprotocol}}
	for _, o := range t.origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			opts.OriginPatterns = append(opts.OriginPatterns, u.Host)
		}
	}
	conn, err := websocket.Accept(w, r, opts)
	if err != nil {
		return // Accept has answered (403 for a foreign origin, 400 for a bad handshake)
	}
	defer conn.CloseNow() //nolint:errcheck
	if conn.Subprotocol() != subprotocol {
		conn.Close(closeSubprotocol, "Subprotocol not acceptable") //nolint:errcheck
		return
	}
	conn.SetReadLimit(1 << 20)
	c := &wsConn{t: t, conn: conn, exec: exec, base: r.Context(), ctx: r.Context(), active: map[string]*operation{}}
	c.serve()
}

// wsConn is one connection's state.
type wsConn struct {
	t    graphqlWS
	conn *websocket.Conn
	exec graphql.GraphExecutor

	base context.Context // the request's, without an actor

	mu       sync.Mutex
	ctx      context.Context // carries the actor once acknowledged
	header   string          // the Authorization of connection_init
	actor    retention.Actor
	life     context.Context // ends with the connection
	initSeen bool
	acked    bool
	active   map[string]*operation
	closed   bool
}

// operation is one running operation of a connection; its identity (not
// only its id, which a client may reuse once it completed it) decides who
// removes it.
type operation struct{ cancel context.CancelFunc }

// close ends the connection with a protocol close code, once.
func (c *wsConn) close(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	for _, op := range c.active {
		op.cancel()
	}
	c.mu.Unlock()
	c.conn.Close(code, reason) //nolint:errcheck // the peer may be gone
}

func (c *wsConn) send(m wsMessage) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := json.Marshal(m)
	if err != nil {
		c.t.log.Error("websocket message", "err", err)
		return
	}
	_ = c.conn.Write(ctx, websocket.MessageText, b) // a failed write ends the read loop too
}

func (c *wsConn) serve() {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	c.life = ctx
	initTimer := time.AfterFunc(c.t.initTimeout, func() {
		c.mu.Lock()
		acked := c.initSeen
		c.mu.Unlock()
		if !acked {
			c.close(closeInitTimeout, "Connection initialisation timeout")
		}
	})
	defer initTimer.Stop()
	for {
		typ, b, err := c.conn.Read(ctx)
		if err != nil {
			c.close(websocket.StatusNormalClosure, "")
			return
		}
		var m wsMessage
		if typ != websocket.MessageText || decodeStrict(b, &m) != nil || m.Type == "" {
			c.close(closeBadMessage, "Invalid message received")
			return
		}
		if !c.handle(ctx, m) {
			return
		}
	}
}

// handle answers one message; false when the connection was closed.
func (c *wsConn) handle(ctx context.Context, m wsMessage) bool {
	switch m.Type {
	case "connection_init":
		c.mu.Lock()
		again := c.initSeen
		c.initSeen = true
		c.mu.Unlock()
		if again {
			c.close(closeTooManyInits, "Too many initialisation requests")
			return false
		}
		return c.init(m.Payload)
	case "ping":
		c.send(wsMessage{Type: "pong", Payload: m.Payload})
	case "pong":
		// The answer to our keep-alive ping: nothing to do.
	case "subscribe":
		return c.subscribe(ctx, m)
	case "complete":
		if m.ID == "" {
			c.close(closeBadMessage, "Invalid message received")
			return false
		}
		c.mu.Lock()
		op := c.active[m.ID]
		delete(c.active, m.ID)
		c.mu.Unlock()
		if op != nil {
			op.cancel()
		}
	default:
		c.close(closeBadMessage, "Invalid message received")
		return false
	}
	return true
}

// init authenticates the connection by its payload's Authorization.
func (c *wsConn) init(payload json.RawMessage) bool {
	var p map[string]any
	if len(payload) > 0 && string(payload) != "null" {
		if err := json.Unmarshal(payload, &p); err != nil {
			c.close(closeBadMessage, "Invalid message received")
			return false
		}
	}
	header, _ := p["Authorization"].(string)
	if header == "" {
		header, _ = p["authorization"].(string) // some clients send it in lower case
	}
	actor, err := authenticate(c.ctx, c.t.auth, header)
	if err != nil {
		if retention.ErrorCode(err) == retention.CodeUnauthenticated {
			c.close(closeForbidden, "Forbidden: "+truncateReason(retention.ErrorMessage(err)))
		} else {
			c.t.log.ErrorContext(c.ctx, "websocket token check failed", "err", err)
			c.close(closeInternalFailure, "could not check the API token now; try again")
		}
		return false
	}
	setActorLabel(c.ctx, actor.Name)
	c.mu.Lock()
	c.ctx = retention.WithActor(c.base, actor)
	c.header, c.actor = header, actor
	c.acked = true
	c.mu.Unlock()
	c.send(wsMessage{Type: "connection_ack"})
	// Keep-alive pings and token checks start with the connection, after
	// the ack.
	go c.keepAlive(c.life)
	go c.watchToken(c.life)
	return true
}

// errClosed is authorise's answer when it closed the connection.
var errClosed = retention.Errorf(retention.CodeUnauthenticated, "connection closed")

// authorise checks the connection's token against its current state and
// returns the context an operation runs with. A revoked token, or a
// lowered role, closes the connection with 4403 (errClosed); a failure to
// read the token is returned, the connection stays.
func (c *wsConn) authorise(ctx context.Context) (context.Context, error) {
	c.mu.Lock()
	header := c.header
	c.mu.Unlock()
	actor, err := authenticateNow(ctx, c.t.auth, header)
	if retention.ErrorCode(err) == retention.CodeUnauthenticated {
		c.close(closeForbidden, "Forbidden: "+truncateReason(retention.ErrorMessage(err)))
		return nil, errClosed
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if !actor.Role.Allows(c.actor.Role) {
		c.mu.Unlock()
		c.close(closeForbidden, "Forbidden: the token's role was changed to "+string(actor.Role)+"; connect again")
		return nil, errClosed
	}
	if actor != c.actor {
		c.actor, c.ctx = actor, retention.WithActor(c.base, actor)
	}
	opCtx := c.ctx
	c.mu.Unlock()
	return opCtx, nil
}

// watchToken checks the token every authCheck, so that an idle connection
// of a revoked token is closed too, with the subscriptions it runs.
func (c *wsConn) watchToken(ctx context.Context) {
	t := time.NewTicker(c.t.authCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := c.authorise(ctx)
		if err == errClosed {
			return
		}
		if err != nil && ctx.Err() == nil {
			// The token store failed: checked again at the next tick and
			// before every operation; a hiccup closes nothing.
			c.t.log.WarnContext(ctx, "websocket token check failed", "err", err)
		}
	}
}

// subscribe runs one operation: its results as next messages, then
// complete; a request error as one error message.
func (c *wsConn) subscribe(connCtx context.Context, m wsMessage) bool {
	c.mu.Lock()
	acked := c.acked
	_, dup := c.active[m.ID]
	c.mu.Unlock()
	if !acked {
		c.close(closeUnauthorized, "Unauthorized")
		return false
	}
	var req request
	if m.ID == "" || decodeStrict(m.Payload, &req) != nil {
		c.close(closeBadMessage, "Invalid message received")
		return false
	}
	if dup {
		c.close(closeDuplicateID, "Subscriber for "+truncateReason(m.ID)+" already exists")
		return false
	}
	if msg := textError(m.Payload); msg != "" {
		c.sendErrors(m.ID, gqlerror.List{{Message: msg, Extensions: map[string]any{"code": string(retention.CodeBadUserInput)}}})
		return true
	}
	// Each operation is authorised against the token's state now, not at
	// connection_init's.
	ctx, err := c.authorise(connCtx)
	if err == errClosed {
		return false
	}
	if err != nil {
		c.t.log.ErrorContext(connCtx, "websocket token check failed", "err", err)
		c.sendErrors(m.ID, gqlerror.List{{Message: "could not check the API token now; try again", Extensions: map[string]any{"code": string(retention.CodeInternal)}}})
		return true
	}
	params, msg := req.params()
	if msg != "" {
		c.sendErrors(m.ID, gqlerror.List{{Message: msg, Extensions: map[string]any{"code": string(retention.CodeBadUserInput)}}})
		return true
	}
	start := graphql.Now()
	params.ReadTime = graphql.TraceTiming{Start: start, End: start}
	opCtx, cancel := context.WithCancel(graphql.StartOperationTrace(ctx))
	stop := context.AfterFunc(connCtx, cancel)
	rc, errs := c.exec.CreateOperationContext(opCtx, params)
	if errs != nil {
		stop()
		cancel()
		resp := c.exec.DispatchError(graphql.WithOperationContext(opCtx, rc), errs)
		c.sendErrors(m.ID, resp.Errors)
		return true
	}
	op := &operation{cancel: cancel}
	c.mu.Lock()
	c.active[m.ID] = op
	c.mu.Unlock()
	go c.serveOperation(connCtx, opCtx, m.ID, op, rc, stop, cancel)
	return true
}

// serveOperation sends an operation's responses until it ends, is
// completed by the client or the connection closes, then says complete.
func (c *wsConn) serveOperation(connCtx, opCtx context.Context, id string, op *operation, rc *graphql.OperationContext,
	stop func() bool, cancel context.CancelFunc) {
	defer stop()
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err := rc.Recover(opCtx, p)
			c.sendErrors(id, gqlerror.List{{Message: retention.ErrorMessage(err), Extensions: map[string]any{"code": string(retention.CodeInternal)}}})
			c.forget(id, op)
		}
	}()
	responses, ctx := c.exec.DispatchOperation(graphql.WithOperationContext(opCtx, rc), rc)
	for {
		resp := responses(ctx)
		if resp == nil || opCtx.Err() != nil {
			break
		}
		b, err := json.Marshal(resp)
		if err != nil {
			c.t.log.ErrorContext(ctx, "websocket response", "err", err)
			break
		}
		c.send(wsMessage{Type: "next", ID: id, Payload: b})
	}
	// A client's complete has removed the id already: nothing to say.
	if c.forget(id, op) && connCtx.Err() == nil {
		c.send(wsMessage{Type: "complete", ID: id})
	}
}

// forget removes a running operation; false when it was gone already
// (the client completed it, and may have reused its id since).
func (c *wsConn) forget(id string, op *operation) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active[id] != op {
		return false
	}
	delete(c.active, id)
	return true
}

func (c *wsConn) sendErrors(id string, errs gqlerror.List) {
	b, err := json.Marshal(errs)
	if err != nil {
		b = []byte(`[{"message":"internal error","extensions":{"code":"INTERNAL"}}]`)
	}
	c.send(wsMessage{Type: "error", ID: id, Payload: b})
}

// keepAlive pings an idle connection, so that proxies keep it open and a
// dead peer is noticed.
func (c *wsConn) keepAlive(ctx context.Context) {
	t := time.NewTicker(c.t.ping)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.send(wsMessage{Type: "ping"})
		}
	}
}

// truncateReason keeps a close reason within the 123 bytes a close frame
// allows, on a rune boundary.
func truncateReason(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
