package console_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/console"
)

// actionName is the shape of an audit action: "customer.purgeFields".
var actionName = regexp.MustCompile(`^[a-z][A-Za-z]*(\.[a-z][A-Za-z]*)+$`)

// emittedActions collects every audit action Lethe can write: the Audit*
// constants of the domain package (the only place Go code names them) and
// the actions migrations insert into audit_log themselves.
func emittedActions(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	files, err := filepath.Glob("../retention/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Audit") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if v, err := strconv.Unquote(lit.Value); err == nil && actionName.MatchString(v) {
						out[v] = "retention." + name.Name
					}
				}
			}
			return true
		})
	}
	sqls, err := filepath.Glob("../store/migrations/*/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	insert := regexp.MustCompile(`(?is)INSERT INTO audit_log[^;]*`)
	quoted := regexp.MustCompile(`'([^']*)'`)
	for _, path := range sqls {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range insert.FindAllString(string(b), -1) {
			for _, m := range quoted.FindAllStringSubmatch(stmt, -1) {
				if actionName.MatchString(m[1]) {
					out[m[1]] = filepath.Base(path)
				}
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d emitted actions: the scan is broken: %v", len(out), out)
	}
	return out
}

// consoleActions reads the audit screen's filter list as the console
// serves it.
func consoleActions(t *testing.T) map[string]bool {
	t.Helper()
	rec := serve(console.Handler(), http.MethodGet, "/console/js/screens/audit.js")
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK {
		t.Fatalf("audit.js: %d", rec.Code)
	}
	m := regexp.MustCompile(`(?s)const ACTIONS = \[(.*?)\];`).FindSubmatch(body)
	if m == nil {
		t.Fatal("audit.js has no ACTIONS list")
	}
	out := map[string]bool{}
	for _, s := range regexp.MustCompile(`'([^']+)'`).FindAllSubmatch(m[1], -1) {
		out[string(s[1])] = true
	}
	return out
}

// TestAuditFilterListsEveryEmittedAction: the audit screen's action filter
// offers every action Lethe writes to the audit log, and nothing it never
// writes, so an operator can find every kind of event.
func TestAuditFilterListsEveryEmittedAction(t *testing.T) {
	emitted, listed := emittedActions(t), consoleActions(t)
	var missing, stale []string
	for a, where := range emitted {
		if !listed[a] {
			missing = append(missing, a+" ("+where+")")
		}
	}
	for a := range listed {
		if _, ok := emitted[a]; !ok {
			stale = append(stale, a)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("console/static/js/screens/audit.js ACTIONS: missing %v; never emitted %v", missing, stale)
	}
}
