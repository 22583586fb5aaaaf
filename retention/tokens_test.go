package retention_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lethe-privacy/lethe/retention"
)

func TestTokenShape(t *testing.T) {
	secret, hash, err := retention.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, retention.TokenPrefix) || len(secret) != 49 || len(hash) != 64 {
		t.Fatalf("token %q hash %q", secret, hash)
	}
	if got, err := retention.ParseToken(secret); err != nil || got != hash {
		t.Fatalf("parse own token: %q %v", got, err)
	}
	other, _, _ := retention.NewTokenSecret()
	if other == secret {
		t.Fatal("two tokens alike")
	}
	for _, bad := range []string{
		"", "lethe_", "Bearer " + secret, secret + "x", secret[:48], "LETHE_" + secret[6:],
		"lethe_" + strings.Repeat("!", 43), "lethe_" + strings.Repeat("A", 42) + "B", // trailing bits must be zero
		strings.Repeat("a", 10000),
	} {
		_, err := retention.ParseToken(bad)
		if retention.ErrorCode(err) != retention.CodeUnauthenticated {
			t.Errorf("ParseToken(%.60q): %v, want UNAUTHENTICATED", bad, err)
		}
		if bad != "" && len(bad) > 8 && strings.Contains(retention.ErrorMessage(err), bad) {
			t.Errorf("the error repeats the token: %v", err)
		}
	}
}

func TestRoles(t *testing.T) {
	cases := []struct {
		have, need retention.Role
		ok         bool
	}{
		{retention.RoleAdmin, retention.RoleViewer, true}, {retention.RoleAdmin, retention.RoleAdmin, true},
		{retention.RoleOperator, retention.RoleViewer, true}, {retention.RoleOperator, retention.RoleAdmin, false},
		{retention.RoleViewer, retention.RoleOperator, false}, {"", retention.RoleViewer, false}, {"root", retention.RoleViewer, false},
		{retention.RoleAdmin, "root", false},
	}
	for _, c := range cases {
		if got := c.have.Allows(c.need); got != c.ok {
			t.Errorf("%q allows %q: %v", c.have, c.need, got)
		}
	}
	ctx := retention.WithActor(context.Background(), retention.Actor{Name: "ops", Role: retention.RoleOperator})
	if a, ok := retention.ActorFrom(ctx); !ok || a.Name != "ops" {
		t.Fatalf("actor %+v %v", a, ok)
	}
	if _, ok := retention.ActorFrom(context.Background()); ok {
		t.Fatal("actor without one set")
	}
}

// FuzzParseToken: any input is refused or accepted without panicking; an
// accepted one has the exact shape, and no error message repeats it.
func FuzzParseToken(f *testing.F) {
	secret, _, _ := retention.NewTokenSecret()
	for _, seed := range []string{secret, "", "lethe_", "lethe_" + strings.Repeat("A", 43), "Bearer x", "lethe_\x00\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hash, err := retention.ParseToken(s)
		if err != nil {
			if retention.ErrorCode(err) != retention.CodeUnauthenticated {
				t.Fatalf("code %s", retention.ErrorCode(err))
			}
			if len(s) >= 8 && utf8.ValidString(s) && strings.Contains(retention.ErrorMessage(err), s) {
				t.Fatalf("error repeats the input")
			}
			return
		}
		if len(s) != 49 || !strings.HasPrefix(s, "lethe_") || len(hash) != 64 {
			t.Fatalf("accepted %q", s)
		}
	})
}
