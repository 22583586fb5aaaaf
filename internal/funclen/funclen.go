// Package funclen finds functions longer than a limit in Go source trees.
// `go run ./internal/funclen/cmd` is the check `make lint` runs; the
// standard asks for no function over 80 lines outside generated code.
package funclen

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Func is one function (or method) and its length in lines, counted from
// the line of `func` to the line of the closing brace.
type Func struct {
	File  string
	Line  int
	Name  string
	Lines int
}

// skipDir lists folders whose Go files are not the project's source:
// fixtures, vendored code, the console's node modules.
var skipDir = map[string]bool{"testdata": true, "vendor": true, "node_modules": true, ".git": true}

// Scan parses every .go file below root that is not generated (per
// ast.IsGenerated, the "Code generated … DO NOT EDIT." convention) and
// returns its functions, longest first. Test files count too: a long test
// is as hard to read as long code.
func Scan(root string) ([]Func, error) {
	var funcs []Func
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (skipDir[d.Name()] || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		file, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			return err
		}
		if ast.IsGenerated(file) {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			start := fset.Position(fn.Pos()).Line
			end := fset.Position(fn.End()).Line
			funcs = append(funcs, Func{File: rel, Line: start, Name: name(fn), Lines: end - start + 1})
		}
		return nil
	})
	sort.SliceStable(funcs, func(i, j int) bool { return funcs[i].Lines > funcs[j].Lines })
	return funcs, err
}

// Over returns the functions longer than limit.
func Over(funcs []Func, limit int) []Func {
	var out []Func
	for _, f := range funcs {
		if f.Lines > limit {
			out = append(out, f)
		}
	}
	return out
}

func name(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	if idx, ok := t.(*ast.IndexExpr); ok { // generic receiver
		t = idx.X
	}
	if idx, ok := t.(*ast.IndexListExpr); ok {
		t = idx.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}
