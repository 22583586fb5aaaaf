package retention_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lethe-privacy/lethe/retention"
)

// FuzzNormalizePersonalData: any input is accepted in a normal form or
// refused with BAD_USER_INPUT naming the field; never a panic, never an
// accepted value with surrounding space, invalid UTF-8 or over 1 KB, and
// normalising twice changes nothing.
func FuzzNormalizePersonalData(f *testing.F) {
	f.Add("Ada", "Lovelace", "ada@example.org", "+44 20 7946 0000")
	f.Add(" ", "", "not-an-email", "abc")
	f.Add("Zoë", "O'Brien", "a@b.c", "(555) 010-0100")
	f.Add("\x00", "\xff", "<a@b.c>", strings.Repeat("9", 2000))
	f.Fuzz(func(t *testing.T, first, last, email, phone string) {
		in := retention.PersonalData{FirstName: &first, LastName: &last, Email: &email, Phone: &phone}
		out, err := retention.NormalizePersonalData("", in)
		if err != nil {
			var e *retention.Error
			if retention.ErrorCode(err) != retention.CodeBadUserInput || !asError(err, &e) || e.Field == "" {
				t.Fatalf("error %v without BAD_USER_INPUT and a field", err)
			}
			return
		}
		for _, f := range retention.AllFields {
			v := out.Get(f)
			if v == nil {
				continue
			}
			if *v == "" || strings.TrimSpace(*v) != *v || !utf8.ValidString(*v) || len(*v) > 1024 {
				t.Fatalf("%s accepted as %q", f, *v)
			}
		}
		again, err := retention.NormalizePersonalData("", out)
		if err != nil || !samePersonalData(again, out) {
			t.Fatalf("not idempotent: %+v -> %+v, %v", out, again, err)
		}
	})
}

func asError(err error, target **retention.Error) bool {
	e, ok := err.(*retention.Error)
	if ok {
		*target = e
	}
	return ok
}

func samePersonalData(a, b retention.PersonalData) bool {
	for _, f := range retention.AllFields {
		x, y := a.Get(f), b.Get(f)
		if (x == nil) != (y == nil) || (x != nil && *x != *y) {
			return false
		}
	}
	return true
}
