// Command funclen fails when a function below the given folder (default .)
// is longer than -max lines (default 80), generated code excepted. It reads
// every module of the repository, since it walks files, not packages.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/lethe-privacy/lethe/internal/funclen"
)

func main() {
	limit := flag.Int("max", 80, "the longest a function may be, in lines")
	list := flag.Bool("list", false, "list every function over -max and exit 0 (for planning)")
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
	over := funclen.Over(funcs, *limit)
	for _, f := range over {
		fmt.Printf("%s:%d: %s is %d lines (limit %d)\n", f.File, f.Line, f.Name, f.Lines, *limit)
	}
	if len(over) > 0 && !*list {
		os.Exit(1)
	}
}
