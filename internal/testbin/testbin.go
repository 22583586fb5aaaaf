// Package testbin gives tests the lethe binary and the built-in plugins,
// built once for a whole `make test`: the Makefile builds them into one
// directory first and names it in LETHE_TEST_BIN, so that every package
// that runs them (the top-level tests, connectors, console) does not build
// its own copy. A package tested alone (`go test ./console`) builds them
// itself. Tests run these real binaries, as a user would.
package testbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// Env names the directory of binaries built beforehand.
const Env = "LETHE_TEST_BIN"

// Version is stamped into every binary built for the tests (the Makefile's
// test build too), so that a test can check the version a plugin reports.
const Version = "9.9.9-test"

// Builds maps each binary to the directory, relative to the repository
// root, it is built in: the plugins are a module of their own, built in
// their directory as the Makefile does.
var Builds = map[string]string{
	"lethe":              ".",
	"lethe-cdrstore":     "plugins/cdrstore",
	"lethe-invoicestore": "plugins/invoicestore",
	"lethe-statdb":       "plugins/statdb",
}

// Dir returns a directory holding every binary of Builds: $LETHE_TEST_BIN
// when set, else a temporary directory built now from root (the repository
// root, relative to the calling package's directory). cleanup removes what
// Dir built.
func Dir(root string) (dir string, cleanup func(), err error) {
	if dir := os.Getenv(Env); dir != "" {
		for name := range Builds {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				return "", nil, fmt.Errorf("%s=%s: %w (make test builds it first)", Env, dir, err)
			}
		}
		return dir, func() {}, nil
	}
	dir, err = os.MkdirTemp("", "lethe-bin-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if err := Build(dir, root, Builds); err != nil {
		cleanup()
		return "", nil, err
	}
	return dir, cleanup, nil
}

// Build builds each binary of builds (name → directory relative to root)
// into dir, concurrently: they share most packages and the build cache.
func Build(dir, root string, builds map[string]string) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for name, pkg := range builds {
		wg.Go(func() {
			cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+Version, "-o", filepath.Join(dir, name), ".")
			cmd.Dir = filepath.Join(root, pkg)
			out, err := cmd.CombinedOutput()
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("build %s: %w\n%s", name, err, out))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
