package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// The dependency rules of DESIGN.md, checked with `go list -deps` so a new
// import that breaks one fails `make test`:
//   - retention/ imports no other package of the project;
//   - relinquish/ (the engine) imports retention and nothing else of the
//     project: the domain is what it depends on, never the reverse;
//   - the connector SDK, the built-in plugins and the example connector
//     depend on nothing of the main module (Lethe itself): an integrator's
//     plugin must build with the SDK alone;
//   - the SDK depends on no plugin either.

const (
	mainModule    = "github.com/lethe-privacy/lethe"
	sdkModule     = "github.com/lethe-privacy/lethe/connectors/sdk"
	pluginsModule = "github.com/lethe-privacy/lethe/plugins"
)

// deps lists "importpath module" for every package pkgs depend on,
// tests included, as seen from the module in dir.
func deps(t *testing.T, dir string, pkgs ...string) map[string]string {
	t.Helper()
	args := append([]string{"list", "-deps", "-test", "-f", "{{.ImportPath}}\t{{with .Module}}{{.Path}}{{end}}"}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list in %s: %v\n%s", dir, err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, module, _ := strings.Cut(line, "\t")
		got[path] = module
	}
	return got
}

func TestRetentionImportsNothingOfTheProject(t *testing.T) {
	t.Parallel()
	for path := range deps(t, ".", "./retention/...") {
		path = strings.TrimSuffix(strings.Fields(path)[0], ".test")
		if strings.HasPrefix(path, mainModule+"/") && !strings.HasPrefix(path, mainModule+"/retention") {
			t.Errorf("retention depends on %s", path)
		}
	}
}

// TestRelinquishDependsOnTheDomainAlone: the engine's code (its tests may
// use a real store) reaches only the domain, and the domain, checked
// above, never reaches the engine.
func TestRelinquishDependsOnTheDomainAlone(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./relinquish").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	sawRetention := false
	for _, path := range strings.Fields(string(out)) {
		switch {
		case path == mainModule+"/retention":
			sawRetention = true
		case strings.HasPrefix(path, mainModule+"/") && path != mainModule+"/relinquish":
			t.Errorf("relinquish depends on %s", path)
		}
	}
	if !sawRetention {
		t.Errorf("go list found no dependency of relinquish on retention: the check saw nothing")
	}
	for path := range deps(t, ".", "./retention/...") {
		if strings.HasPrefix(path, mainModule+"/relinquish") {
			t.Errorf("retention depends on the engine (%s)", path)
		}
	}
}

func TestConnectorsDependOnTheSDKAlone(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"connectors/sdk", "plugins", "examples/connector-newsletter"} {
		t.Run(dir, func(t *testing.T) {
			got := deps(t, dir, "./...")
			usesSDK := false
			for path, module := range got {
				switch {
				case module == mainModule:
					t.Errorf("%s depends on %s of the main module", dir, path)
				case dir == "connectors/sdk" && strings.HasPrefix(module, mainModule) && module != sdkModule:
					t.Errorf("the SDK depends on %s (module %s)", path, module)
				case module == sdkModule:
					usesSDK = true
				}
			}
			if !usesSDK {
				t.Errorf("go list found no package of the SDK among %d dependencies of %s: the check saw nothing", len(got), dir)
			}
		})
	}
}

// TestLetheLinksNoPlugin: the lethe binary and every package of the main
// module, tests included, build without the built-in plugins' code and its
// PDF library, and go.mod does not require the plugins module: the demo
// and the tests fill the plugins' stores through each plugin's seed
// command (sdk.Seeder) and read them through the contract, so the host
// reaches a store only as an integrator's would.
func TestLetheLinksNoPlugin(t *testing.T) {
	t.Parallel()
	sawRetention := false
	for path := range deps(t, ".", "./...") {
		path = strings.Fields(path)[0]
		switch {
		case strings.HasPrefix(path, pluginsModule):
			t.Errorf("the main module depends on the plugin package %s", path)
		case strings.Contains(path, "fpdf") || strings.Contains(path, "/pdf"):
			t.Errorf("the main module depends on the PDF library %s", path)
		case path == mainModule+"/retention":
			sawRetention = true
		}
	}
	if !sawRetention {
		t.Fatal("go list found not even retention: the check saw nothing")
	}
	out, err := exec.Command("go", "mod", "edit", "-json").Output()
	if err != nil {
		t.Fatalf("go mod edit -json: %v", err)
	}
	var mod struct {
		Require []struct{ Path string }
		Replace []struct{ Old struct{ Path string } }
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	if len(mod.Require) == 0 {
		t.Fatal("go.mod requires nothing: the check saw nothing")
	}
	for _, r := range mod.Require {
		if strings.HasPrefix(r.Path, pluginsModule) {
			t.Errorf("go.mod requires %s", r.Path)
		}
	}
	for _, r := range mod.Replace {
		if strings.HasPrefix(r.Old.Path, pluginsModule) {
			t.Errorf("go.mod replaces %s", r.Old.Path)
		}
	}
}
