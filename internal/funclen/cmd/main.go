// Command funclen fails when a function below the given folder (default .)
// is longer than -max lines (default 80), generated code excepted. It reads
// every module of the repository, since it walks files, not packages.
// Test files are checked with -tests (not yet by `make lint`: see the
// list it prints).
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/lethe-privacy/lethe/internal/funclen"
)

func main() {
	limit := flag.Int("max", 80, "the longest a function may be, in lines")
	list := flag.Bool("list", false, "list every function over -max and exit 0 (for planning)")
	tests := flag.Bool("tests", false, "check _test.go files too")
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	funcs, err := funclen.Scan(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "funclen:", err)
		os.Exit(2)
	}
	if !*tests {
		funcs = slices.DeleteFunc(funcs, func(f funclen.Func) bool { return strings.HasSuffix(f.File, "_test.go") })
	}
	over := funclen.Over(funcs, *limit)
	for _, f := range over {
		fmt.Printf("%s:%d: %s is %d lines (limit %d)\n", f.File, f.Line, f.Name, f.Lines, *limit)
	}
	if len(over) > 0 && !*list {
		os.Exit(1)
	}
}
