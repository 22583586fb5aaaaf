package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The dependency rules of DESIGN.md, checked with `go list -deps` so a new
// import that breaks one fails `make test`:
//   - retention/ imports no other package of the project;
//   - the connector SDK, the built-in plugins and the example connector
//     depend on nothing of the main module (Lethe itself): an integrator's
//     plugin must build with the SDK alone;
//   - the SDK depends on no plugin either.

const (
	mainModule = "github.com/lethe-privacy/lethe"
	sdkModule  = "github.com/lethe-privacy/lethe/connectors/sdk"
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
	for path := range deps(t, ".", "./retention/...") {
		path = strings.TrimSuffix(strings.Fields(path)[0], ".test")
		if strings.HasPrefix(path, mainModule+"/") && !strings.HasPrefix(path, mainModule+"/retention") {
			t.Errorf("retention depends on %s", path)
		}
	}
}

func TestConnectorsDependOnTheSDKAlone(t *testing.T) {
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
// module build without the built-in plugins' code and its PDF library: the
// demo fills the plugins' stores through each plugin's seed command
// (sdk.Seeder), so the host reaches a store only through the contract.
func TestLetheLinksNoPlugin(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./...")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	pkgs := strings.Fields(string(out))
	sawRetention := false
	for _, path := range pkgs {
		switch {
		case strings.HasPrefix(path, mainModule+"/plugins"):
			t.Errorf("the main module depends on the plugin package %s", path)
		case strings.Contains(path, "fpdf") || strings.Contains(path, "/pdf"):
			t.Errorf("the main module depends on the PDF library %s", path)
		case path == mainModule+"/retention":
			sawRetention = true
		}
	}
	if !sawRetention {
		t.Fatalf("go list found not even retention among %d packages: the check saw nothing", len(pkgs))
	}
}
