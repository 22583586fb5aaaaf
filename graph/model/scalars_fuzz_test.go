package model_test

import (
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/graph/model"
	"github.com/lethe-privacy/lethe/retention"
)

// FuzzUnmarshalTime: a time is accepted in UTC or refused with
// BAD_USER_INPUT and a message of bounded length; never a panic.
func FuzzUnmarshalTime(f *testing.F) {
	for _, s := range []string{"2026-01-31T09:30:00Z", "2026-01-31T09:30:00.123456789+02:00", "2026-02-30T00:00:00Z", "", "yesterday", "9999-12-31T23:59:59Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := model.UnmarshalTime(s)
		if err != nil {
			if retention.ErrorCode(err) != retention.CodeBadUserInput {
				t.Fatalf("code %s for %q", retention.ErrorCode(err), s)
			}
			if len(retention.ErrorMessage(err)) > 512 { // bounded however long the input
				t.Fatalf("message of %d bytes repeats the input", len(retention.ErrorMessage(err)))
			}
			return
		}
		if tm.Location() != time.UTC {
			t.Fatalf("%q not in UTC", s)
		}
		// What is accepted round-trips through the API's own format.
		back, err := model.UnmarshalTime(tm.Format(time.RFC3339Nano))
		if err != nil || !back.Equal(tm) {
			t.Fatalf("%q: round trip %v %v", s, back, err)
		}
	})
}
