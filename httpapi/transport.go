package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/lethe-privacy/lethe/retention"
)

// Media types of GraphQL over HTTP.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// Codes of refusals by the transport, in extensions.code.
const (
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	CodeNotAcceptable        = "NOT_ACCEPTABLE"
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
)

// overHTTP serves GraphQL over HTTP GET and POST as the GraphQL-over-HTTP
// specification says, which gqlgen's own transports do not quite:
//
//   - under Accept: application/json (the default, and what most clients
//     send) every well-formed request is answered 200, errors included, so
//     that clients read their codes;
//   - under application/graphql-response+json a request that fails before
//     it runs (parse, validation, variables, limits) is answered 4xx and
//     without a "data" entry;
//   - a request that is not well-formed (no query, a query that is not a
//     string, variables that are not an object, a body that is not JSON) is
//     400 in either, a body of another media type 415, a mutation over GET
//     405, an Accept nothing can satisfy 406, each with a code.
//
// It supports every request that is not a websocket upgrade, so that no
// request falls through to gqlgen's uncoded "transport not supported".
type overHTTP struct{}

var _ graphql.Transport = overHTTP{}

func (overHTTP) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") == "" }

// request is the body of a POST, or the parameters of a GET, before their
// types are checked.
type request struct {
	Query         json.RawMessage `json:"query"`
	OperationName json.RawMessage `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
}

func (overHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media, ok := responseMedia(r.Header.Get("Accept"))
	if !ok {
		writeGraphQLError(w, http.StatusNotAcceptable, CodeNotAcceptable,
			"the Accept header allows neither application/graphql-response+json nor application/json")
		return
	}
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	start := graphql.Now()
	req, ok := readRequest(w, r)
	if !ok {
		return
	}
	params, msg := req.params()
	if msg != "" {
		writeGraphQLError(w, http.StatusBadRequest, string(retention.CodeBadUserInput), msg)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := r.Context()
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		// The operation never ran: a request error, without "data".
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		status := http.StatusOK
		if media == mediaGraphQLResponse {
			status = http.StatusBadRequest
		}
		writeRequestErrors(w, status, resp)
		return
	}
	if rc.Operation != nil && rc.Operation.Operation != ast.Query && r.Method == http.MethodGet {
		// GET is safe: it never changes anything.
		w.Header().Set("Allow", "POST")
		writeGraphQLError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"a "+string(rc.Operation.Operation)+" must be sent with POST; GET runs queries only")
		return
	}
	if rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
		writeGraphQLError(w, http.StatusBadRequest, string(retention.CodeBadUserInput),
			"subscriptions are served over the websocket (graphql-transport-ws) at this path")
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeJSON(w, http.StatusOK, responses(ctx))
}

// readRequest reads the GraphQL request of a GET's parameters or a POST's
// JSON body; false when it has answered the request itself (an OPTIONS, or
// a refusal).
func readRequest(w http.ResponseWriter, r *http.Request) (request, bool) {
	var req request
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		req.Query = param(q, "query", false)
		req.OperationName = param(q, "operationName", false)
		req.Variables = param(q, "variables", true)
		req.Extensions = param(q, "extensions", true)
		for _, name := range []string{"query", "operationName", "variables", "extensions"} {
			if msg := textError([]byte(q.Get(name))); msg != "" {
				writeGraphQLError(w, http.StatusBadRequest, string(retention.CodeBadUserInput), name+": "+msg)
				return req, false
			}
		}
	case http.MethodPost:
		ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || ct != mediaJSON || (params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
			writeGraphQLError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
				"send the request as Content-Type: application/json (UTF-8)")
			return req, false
		}
		body, err := io.ReadAll(r.Body)
		if msg := textError(body); err == nil && msg != "" {
			writeGraphQLError(w, http.StatusBadRequest, string(retention.CodeBadUserInput), msg)
			return req, false
		}
		if err == nil {
			err = decodeStrict(body, &req)
		}
		if err != nil {
			writeGraphQLError(w, http.StatusBadRequest, string(retention.CodeBadUserInput),
				`the body is not a JSON object; send {"query": "...", "variables": {...}}`)
			return req, false
		}
	case http.MethodOptions:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return req, false
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		writeGraphQLError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "send GraphQL with GET or POST")
		return req, false
	}
	return req, true
}

// param is a GET parameter as JSON: a string for query and operationName,
// the raw JSON text for variables and extensions; absent is nil.
func param(q map[string][]string, name string, isJSON bool) json.RawMessage {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return nil
	}
	if isJSON {
		return json.RawMessage(v[0])
	}
	b, _ := json.Marshal(v[0])
	return b
}

// decodeStrict decodes one JSON value and nothing after it.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// params checks the types of a request's parameters: a message says what
// is wrong with it.
func (req request) params() (*graphql.RawParams, string) {
	p := &graphql.RawParams{}
	isNull := func(m json.RawMessage) bool { return len(m) == 0 || string(m) == "null" }
	if !isNull(req.Query) && decodeStrict(req.Query, &p.Query) != nil {
		return nil, `"query" must be a string holding a GraphQL document`
	}
	if !isNull(req.OperationName) && decodeStrict(req.OperationName, &p.OperationName) != nil {
		return nil, `"operationName" must be a string or null`
	}
	if !isNull(req.Variables) && decodeStrict(req.Variables, &p.Variables) != nil {
		return nil, `"variables" must be a JSON object or null`
	}
	if !isNull(req.Extensions) && decodeStrict(req.Extensions, &p.Extensions) != nil {
		return nil, `"extensions" must be a JSON object or null`
	}
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		return nil, `"query" is missing: send a GraphQL document`
	}
	return p, ""
}

// responseMedia picks the response's media type from an Accept header:
// application/graphql-response+json when the client lists it first (or
// only it), else application/json, which a missing Accept, */* and
// application/* also get.
func responseMedia(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	best, bestQ := "", -1.0
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if q <= 0 {
			continue
		}
		var m string
		switch mt {
		case mediaGraphQLResponse:
			m = mediaGraphQLResponse
		case mediaJSON, "*/*", "application/*":
			m = mediaJSON
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = m, q
		}
	}
	return best, best != ""
}

// writeRequestErrors answers an operation that never ran: errors and
// extensions, no "data" (the GraphQL spec: data is absent when an error
// was raised before execution began).
func writeRequestErrors(w http.ResponseWriter, status int, resp *graphql.Response) {
	writeJSON(w, status, struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"message":"internal error; the server log has the details","extensions":{"code":"INTERNAL"}}]}`)
	}
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck // the client went away
}
