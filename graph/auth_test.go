package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// fieldRoles is who may use each field of Query, Mutation and
// Subscription: the lowest role allowed (roles include the ones below).
// A field of the schema missing here fails TestRoleMatrix, and so does a
// field whose @hasRole says otherwise: adding a field means deciding who
// may use it, here and in the schema.
var fieldRoles = map[string]retention.Role{
	// Settings and connectors: everyone, no personal data.
	"Query.connectors":         retention.RoleViewer,
	"Query.retentionPolicies":  retention.RoleViewer,
	"Query.retentionPolicy":    retention.RoleViewer,
	"Query.dataPolicy":         retention.RoleViewer,
	"Query.fieldPreferences":   retention.RoleViewer,
	"Query.customFieldStorage": retention.RoleViewer,
	// Runs: ids, counts and connector names only.
	"Query.retentionRuns":                   retention.RoleViewer,
	"Query.retentionRun":                    retention.RoleViewer,
	"Query.session":                         retention.RoleViewer, // the caller's own token name and role
	"Query.retentionForecast":               retention.RoleViewer, // counts per week, never who
	"Subscription.retentionRunProgress":     retention.RoleViewer,
	"Query.retentionPolicyUpdatePreview":    retention.RoleAdmin, // what-ifs of admin changes
	"Query.dataPolicyPreview":               retention.RoleAdmin,
	"Mutation.runRetention":                 retention.RoleOperator, // real runs narrowed to admin in the resolver
	"Mutation.reloadConnectors":             retention.RoleAdmin,    // replaces plugin processes
	"Query.customers":                       retention.RoleOperator,
	"Query.customer":                        retention.RoleOperator,
	"Query.visit":                           retention.RoleOperator,
	"Query.node":                            retention.RoleViewer,
	"Query.retentionRunsConnection":         retention.RoleViewer,
	"Query.auditEvents":                     retention.RoleAdmin,
	"Mutation.createCustomer":               retention.RoleOperator,
	"Mutation.updateCustomer":               retention.RoleOperator,
	"Mutation.setCustomerStatus":            retention.RoleOperator,
	"Mutation.setCustomerRetentionPolicy":   retention.RoleOperator,
	"Mutation.clearCustomerRetentionPolicy": retention.RoleOperator,
	"Mutation.deleteCustomer":               retention.RoleOperator,
	"Query.erasureReceipt":                  retention.RoleOperator,
	"Query.fieldPreferencesPreview":         retention.RoleAdmin,
	"Mutation.exportCustomer":               retention.RoleOperator,
	"Mutation.bookAppointment":              retention.RoleOperator,
	"Mutation.startVisit":                   retention.RoleOperator,
	"Mutation.endVisit":                     retention.RoleOperator,
	"Mutation.placeLegalHold":               retention.RoleOperator,
	"Mutation.releaseLegalHold":             retention.RoleOperator,
	"Mutation.updateRetentionPolicy":        retention.RoleAdmin,
	"Mutation.createRetentionPolicy":        retention.RoleAdmin,
	"Mutation.revertRetentionPolicy":        retention.RoleAdmin,
	"Mutation.deleteRetentionPolicy":        retention.RoleAdmin,
	"Mutation.updateCustomFieldLabels":      retention.RoleAdmin,
	"Mutation.updateDataPolicy":             retention.RoleAdmin,
	"Mutation.useDefaultDataPolicy":         retention.RoleAdmin,
	"Mutation.updateFieldPreferences":       retention.RoleAdmin,
	"Mutation.updateCustomFieldStorage":     retention.RoleAdmin,
	"Query.auditLog":                        retention.RoleAdmin,
	"Query.auditLogCsv":                     retention.RoleAdmin,
	"Query.auditVerification":               retention.RoleViewer,
}

// rootField is one field of a root type, with a document that calls it.
type rootField struct {
	key   string // "Query.customers"
	op    ast.Operation
	query string
}

// rootFields lists every field of Query, Mutation and Subscription of the
// schema as gqlgen loaded it, each with a query calling it with
// placeholder arguments.
func rootFields(t *testing.T, schema *ast.Schema) []rootField {
	var out []rootField
	for _, root := range []struct {
		def *ast.Definition
		op  ast.Operation
	}{{schema.Query, ast.Query}, {schema.Mutation, ast.Mutation}, {schema.Subscription, ast.Subscription}} {
		if root.def == nil {
			continue
		}
		for _, f := range root.def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			var args []string
			for _, a := range f.Arguments {
				if a.Type.NonNull && a.DefaultValue == nil {
					args = append(args, a.Name+": "+placeholder(t, schema, a.Type))
				}
			}
			call := f.Name
			if len(args) > 0 {
				call += "(" + strings.Join(args, ", ") + ")"
			}
			if def := schema.Types[f.Type.Name()]; def != nil && (def.Kind == ast.Object || def.Kind == ast.Interface || def.Kind == ast.Union) {
				call += " { __typename }"
			}
			out = append(out, rootField{key: root.def.Name + "." + f.Name, op: root.op, query: string(root.op) + " { " + call + " }"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// placeholder is a valid literal of type typ: harmless values that make a
// resolver answer NOT_FOUND or BAD_USER_INPUT rather than change much.
func placeholder(t *testing.T, schema *ast.Schema, typ *ast.Type) string {
	if typ.Elem != nil {
		return "[]"
	}
	def := schema.Types[typ.NamedType]
	switch {
	case def == nil:
		t.Fatalf("unknown type %s", typ.NamedType)
	case def.Kind == ast.Enum:
		return def.EnumValues[0].Name
	case def.Kind == ast.InputObject:
		var fields []string
		for _, f := range def.Fields {
			if f.Type.NonNull && f.DefaultValue == nil {
				fields = append(fields, f.Name+": "+placeholder(t, schema, f.Type))
			}
		}
		return "{" + strings.Join(fields, ", ") + "}"
	}
	switch typ.NamedType {
	case "Int":
		return "1"
	case "Float":
		return "1.5"
	case "Boolean":
		return "true" // dryRun: true
	case "Time":
		return `"2030-01-01T00:00:00Z"`
	case "JSON":
		return `"{}"`
	}
	return `"placeholder"`
}

// execute runs a document in process on the schema the server serves,
// as the actor (none when name is ""), and returns the error codes of the
// response. A subscription that is allowed may wait for events: after a
// moment it counts as allowed with no error.
func execute(t *testing.T, es graphql.ExecutableSchema, actor *retention.Actor, query string) []string {
	t.Helper()
	exec := executor.New(es)
	// Resolvers this test leaves unwired (the engine's) panic; the server
	// recovers those as INTERNAL, and so does this.
	exec.SetRecoverFunc(func(context.Context, any) error { return errors.New("panic in resolver") })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if actor != nil {
		ctx = retention.WithActor(ctx, *actor)
	}
	ctx = graphql.StartOperationTrace(ctx)
	now := graphql.Now()
	rc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query, ReadTime: graphql.TraceTiming{Start: now, End: now}})
	if errs != nil {
		t.Fatalf("%s: %v", query, errs)
	}
	done := make(chan *graphql.Response, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- &graphql.Response{Errors: nil}
			}
		}()
		resp, rctx := exec.DispatchOperation(graphql.WithOperationContext(ctx, rc), rc)
		done <- resp(rctx)
	}()
	var resp *graphql.Response
	select {
	case resp = <-done:
	case <-time.After(2 * time.Second):
		return nil
	}
	var codes []string
	for _, e := range resp.Errors {
		var de *retention.Error
		if errors.As(e, &de) {
			codes = append(codes, string(de.Code))
		} else {
			codes = append(codes, "other:"+e.Message)
		}
	}
	return codes
}

func has(codes []string, code string) bool {
	for _, c := range codes {
		if c == code {
			return true
		}
	}
	return false
}

// TestRoleMatrix walks every field of Query, Mutation and Subscription of
// the schema as loaded, as every role and as no one: a role below the
// field's rule gets FORBIDDEN (no one gets UNAUTHENTICATED) and changes
// nothing; a role at or above it is let through to the resolver.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	s := storetest.MustOpenSQLite(t)
	svc := retention.NewService(s)
	es := graph.NewSchema(&graph.Resolver{Service: svc})
	fields := rootFields(t, es.Schema())
	if len(fields) < 30 {
		t.Fatalf("only %d root fields found", len(fields))
	}

	// The schema's own rule equals the table's, for every field.
	for _, f := range fields {
		want, ok := fieldRoles[f.key]
		if !ok {
			t.Errorf("%s has no entry in fieldRoles: decide who may use it (and put @hasRole on it)", f.key)
			continue
		}
		root, name, _ := strings.Cut(f.key, ".")
		def := es.Schema().Types[root].Fields.ForName(name)
		dirs := def.Directives.ForNames("hasRole")
		if len(dirs) != 1 {
			t.Errorf("%s has %d @hasRole directives, want 1", f.key, len(dirs))
			continue
		}
		if got := strings.ToLower(dirs[0].Arguments.ForName("role").Value.Raw); got != string(want) {
			t.Errorf("%s: @hasRole(role: %s), the table says %s", f.key, strings.ToUpper(got), strings.ToUpper(string(want)))
		}
	}
	for key := range fieldRoles {
		found := false
		for _, f := range fields {
			found = found || f.key == key
		}
		if !found {
			t.Logf("fieldRoles has %s, which the schema does not (yet) have", key)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Everything refused first: the audit log, which records every
	// change, must stay empty.
	actors := map[retention.Role]*retention.Actor{}
	for _, r := range retention.Roles {
		actors[r] = &retention.Actor{Name: "matrix-" + string(r), Role: r}
	}
	refusals := 0
	for _, f := range fields {
		need := fieldRoles[f.key]
		if codes := execute(t, es, nil, f.query); !has(codes, "UNAUTHENTICATED") {
			t.Errorf("%s without a token: %v, want UNAUTHENTICATED", f.key, codes)
		}
		for _, r := range retention.Roles {
			if r.Allows(need) {
				continue
			}
			refusals++
			if codes := execute(t, es, actors[r], f.query); !has(codes, "FORBIDDEN") {
				t.Errorf("%s as %s: %v, want FORBIDDEN", f.key, r, codes)
			}
		}
	}
	if events, err := s.AuditLog(context.Background(), retention.AuditQuery{First: 10}); err != nil || len(events) != 0 {
		t.Fatalf("refused calls changed something: %+v %v", events, err)
	}
	if refusals < 30 {
		t.Fatalf("only %d refusals checked", refusals)
	}
	for _, f := range fields {
		need := fieldRoles[f.key]
		for _, r := range retention.Roles {
			if !r.Allows(need) {
				continue
			}
			if codes := execute(t, es, actors[r], f.query); has(codes, "FORBIDDEN") || has(codes, "UNAUTHENTICATED") {
				t.Errorf("%s as %s: %v, want it let through", f.key, r, codes)
			}
		}
	}
}

// post sends a GraphQL request with an Authorization header value
// (none when empty) and returns the status and the decoded body.
func post(t *testing.T, url, auth, body string) (int, gqlResponse, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	raw := new(bytes.Buffer)
	raw.ReadFrom(resp.Body) //nolint:errcheck
	if err := json.Unmarshal(raw.Bytes(), &out); err != nil {
		t.Fatalf("body is not GraphQL-shaped JSON: %q", raw)
	}
	return resp.StatusCode, out, resp.Header
}

func queryBody(q string) string {
	b, _ := json.Marshal(map[string]any{"query": q})
	return string(b)
}

// TestAuthentication: without a valid token, every field of the schema is
// answered 401 with an UNAUTHENTICATED GraphQL error, on PostgreSQL too;
// downloads need an operator; health stays open.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		svc := retention.NewService(s)
		srv := httptest.NewServer(httpapi.NewHandler(&graph.Resolver{Service: svc, Log: quiet}, httpapi.Options{}))
		t.Cleanup(srv.Close)
		admin := mustToken(t, svc, "admin", retention.RoleAdmin)
		viewer := mustToken(t, svc, "viewer", retention.RoleViewer)
		revoked := mustToken(t, svc, "gone", retention.RoleAdmin)
		if _, err := svc.RevokeToken(context.Background(), "gone"); err != nil {
			t.Fatal(err)
		}
		unknown, _, _ := retention.NewTokenSecret()

		bad := map[string]string{
			"no header":    "",
			"no scheme":    admin,
			"basic":        "Basic YWRtaW46YWRtaW4=",
			"wrong shape":  "Bearer lethe_short",
			"not lethe":    "Bearer ghp_" + strings.Repeat("a", 40),
			"unknown":      "Bearer " + unknown,
			"revoked":      "Bearer " + revoked,
			"empty bearer": "Bearer ",
		}
		for name, auth := range bad {
			status, resp, hdr := post(t, srv.URL, auth, queryBody(`{ dataPolicy { usesDefault } }`))
			if status != http.StatusUnauthorized || len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "UNAUTHENTICATED" ||
				resp.Data != nil || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %d %+v", name, status, resp)
			}
			if secret := strings.TrimPrefix(auth, "Bearer "); len(secret) > 8 && strings.Contains(resp.Errors[0].Message, secret) {
				t.Errorf("%s: the message repeats a token: %s", name, resp.Errors[0].Message)
			}
		}
		// Every field of the schema: refused before it is even parsed.
		for _, f := range rootFields(t, graph.NewSchema(&graph.Resolver{Service: svc}).Schema()) {
			if status, resp, _ := post(t, srv.URL, "", queryBody(f.query)); status != http.StatusUnauthorized || resp.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
				t.Errorf("%s without a token: %d %+v", f.key, status, resp)
			}
		}
		// A good token, in any case of the scheme.
		if status, resp, _ := post(t, srv.URL, "bearer "+viewer, queryBody(`{ dataPolicy { usesDefault } }`)); status != 200 || len(resp.Errors) != 0 {
			t.Fatalf("viewer: %d %+v", status, resp)
		}
		status, resp, _ := post(t, srv.URL, "Bearer "+viewer, queryBody(`{ customers { totalCount } }`))
		if status != 200 || len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "FORBIDDEN" {
			t.Fatalf("viewer reading customers: %d %+v", status, resp)
		}

		get := func(path, token string) int {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		for _, c := range []struct {
			path, token string
			want        int
		}{
			{"/healthz", "", 200}, {"/readyz", "", 200}, {"/export/cus_x", "", 401}, {"/export/cus_x", viewer, 403},
			{"/export/cus_x", admin, 404}, {"/", "", 404}, // no playground unless asked for
		} {
			if got := get(c.path, c.token); got != c.want {
				t.Errorf("GET %s (token %v): %d, want %d", c.path, c.token != "", got, c.want)
			}
		}
	})
}

// TestAuditLogQuery: admins page through the audit log newest first; each
// event names the token that acted.
func TestAuditLogQuery(t *testing.T) {
	t.Parallel()
	s := storetest.MustOpenSQLite(t)
	c := newClient(t, s)
	for _, days := range []int{40, 50, 60} {
		c.ok(fmt.Sprintf(`mutation { updateRetentionPolicy(input: {name: "default", retentionDays: %d}) { version } }`, days), nil)
	}
	d := c.ok(`{ auditLog(first: 2) { id at actor action subject details } }`, nil)
	events := d["auditLog"].([]any)
	if len(events) != 2 || get(events[0], "actor") != "test-admin" || get(events[0], "action") != "policy.update" ||
		get(events[0], "subject") != "default" || get(events[0], "details", "retentionDays", "new") != float64(60) {
		t.Fatalf("page 1: %v", d)
	}
	d = c.ok(`query($a: ID) { auditLog(first: 5, after: $a) { action details } }`, map[string]any{"a": get(events[1], "id")})
	rest := d["auditLog"].([]any)
	// The third policy change, then the creation of the client's token.
	if len(rest) != 2 || get(rest[0], "details", "retentionDays", "new") != float64(40) || get(rest[1], "action") != "token.create" {
		t.Fatalf("page 2: %v", d)
	}
	c.fails("BAD_USER_INPUT", `{ auditLog(first: 101) { id } }`, nil)
	c.fails("BAD_USER_INPUT", `{ auditLog(after: "nope") { id } }`, nil)
}
