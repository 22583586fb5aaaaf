package httpapi

import (
	"strings"
	"testing"
)

// FuzzBearer: any Authorization value is refused or yields a non-empty
// token without surrounding space; never a panic.
func FuzzBearer(f *testing.F) {
	for _, s := range []string{"Bearer lethe_abc", "bearer   x ", "Basic dXNlcjpwYXNz", "Bearer", "", "Bearer \x00", "Token lethe_x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, ok := bearer(header)
		if !ok {
			if token != "" {
				t.Fatalf("refused %q but returned %q", header, token)
			}
			return
		}
		if token == "" || strings.TrimSpace(token) != token {
			t.Fatalf("%q gave token %q", header, token)
		}
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(header)), "bearer ") {
			t.Fatalf("accepted scheme of %q", header)
		}
	})
}
