package store

import (
	"strings"
	"testing"
)

// A journal entry whose categories cannot be read is an error, never an
// entry with no categories (which means "every category"); likewise an
// action's categories and a visit's custom fields.
func TestUnreadableRowsAreErrors(t *testing.T) {
	t.Parallel()
	good := entryRow{ID: "e1", Categories: `["cdr"]`}
	if e, err := good.domain(); err != nil || len(e.Categories) != 1 || e.Categories[0] != "cdr" {
		t.Fatalf("a readable entry: %+v, %v", e, err)
	}
	for name, check := range map[string]func() error{
		"entry categories": func() error { _, err := (&entryRow{ID: "e2", Categories: `["cdr"`}).domain(); return err },
		"entry subject": func() error {
			bad := `{"firstName":`
			_, err := (&entryRow{ID: "e3", Categories: `[]`, Subject: &bad}).domain()
			return err
		},
		"action categories": func() error { _, err := (&actionRow{ID: "a1", Categories: `{}`}).domain(); return err },
		"visit custom fields": func() error {
			_, err := (&visitRow{ID: "v1", CustomFields: `nope`, FieldStorage: `{}`}).domain()
			return err
		},
		"visit field storage": func() error {
			_, err := (&visitRow{ID: "v2", CustomFields: `[]`, FieldStorage: `[`}).domain()
			return err
		},
	} {
		err := check()
		if err == nil || !strings.Contains(err.Error(), "cannot be read") {
			t.Errorf("%s: %v, want an error saying it cannot be read", name, err)
		}
	}
}
