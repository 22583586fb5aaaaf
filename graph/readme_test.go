package graph_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/lethe-privacy/lethe/graph"
)

// TestReadmeExamples: every GraphQL block of the README and of docs/*.md
// is valid against the schema and names each of its operations, so that a
// whole block pasted into the playground runs (a block with two anonymous
// operations cannot).
func TestReadmeExamples(t *testing.T) {
	t.Parallel()
	docs, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	schema := graph.NewSchema(&graph.Resolver{}).Schema()
	total := 0
	for _, path := range append([]string{"../README.md"}, docs...) {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		blocks := regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(string(raw), -1)
		if path == "../README.md" && len(blocks) < 5 {
			t.Fatalf("found %d graphql blocks in the README", len(blocks))
		}
		total += len(blocks)
		name := filepath.Base(path)
		for i, b := range blocks {
			doc, perr := parser.ParseQuery(&ast.Source{Name: name, Input: b[1]})
			if perr != nil {
				t.Errorf("%s block %d does not parse: %v\n%s", name, i+1, perr, b[1])
				continue
			}
			if errs := validator.Validate(schema, doc); len(errs) > 0 {
				t.Errorf("%s block %d is not valid: %v\n%s", name, i+1, errs, b[1])
			}
			for _, op := range doc.Operations {
				if op.Name == "" {
					t.Errorf("%s block %d has an anonymous %s operation:\n%s", name, i+1, op.Operation, b[1])
				}
			}
		}
	}
	t.Logf("%d GraphQL blocks in README.md and %d files of docs/", total, len(docs))
}
