package graph_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/lethe-privacy/lethe/graph"
)

// TestReadmeExamples: every GraphQL block of the README is valid against the
// schema and names each of its operations, so that a whole block pasted into
// the playground runs (a block with two anonymous operations cannot).
func TestReadmeExamples(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	schema := graph.NewSchema(&graph.Resolver{}).Schema()
	blocks := regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(string(raw), -1)
	if len(blocks) < 5 {
		t.Fatalf("found %d graphql blocks in the README", len(blocks))
	}
	for i, b := range blocks {
		doc, perr := parser.ParseQuery(&ast.Source{Name: "README block", Input: b[1]})
		if perr != nil {
			t.Errorf("block %d does not parse: %v\n%s", i+1, perr, b[1])
			continue
		}
		if errs := validator.Validate(schema, doc); len(errs) > 0 {
			t.Errorf("block %d is not valid: %v\n%s", i+1, errs, b[1])
		}
		for _, op := range doc.Operations {
			if op.Name == "" {
				t.Errorf("block %d has an anonymous %s operation:\n%s", i+1, op.Operation, b[1])
			}
		}
	}
}
