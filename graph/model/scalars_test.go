package model_test

import (
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/graph/model"
	"github.com/lethe-privacy/lethe/retention"
)

// TestUnmarshalTimeFollowsRFC3339: the RFC's grammar, no more and no less.
func TestUnmarshalTimeFollowsRFC3339(t *testing.T) {
	utc := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339Nano, s); return tm.UTC() }
	for in, want := range map[string]time.Time{
		"2026-01-31T09:30:00Z":             utc("2026-01-31T09:30:00Z"),
		"2026-01-31t09:30:00z":             utc("2026-01-31T09:30:00Z"),
		"2026-01-31T09:30:00.5+02:00":      utc("2026-01-31T07:30:00.5Z"),
		"2026-01-31T09:30:00-23:59":        utc("2026-02-01T09:29:00Z"),
		"2026-01-31T09:30:00.1234567Z":     utc("2026-01-31T09:30:00.123456Z"),
		"2026-01-31T00:00:00+00:00":        utc("2026-01-31T00:00:00Z"),
		"2024-02-29T12:00:00Z":             utc("2024-02-29T12:00:00Z"),
		"2026-12-31T23:59:59.999999-00:00": utc("2027-01-01T00:00:00Z").Add(-time.Microsecond),
	} {
		got, err := model.UnmarshalTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{
		"2026-01-31T09:30:00+24:00", "2026-01-31T09:30:00+23:60", "2026-01-31T09:30:00+0200",
		"2026-01-31 09:30:00Z", "2026-01-31T09:30Z", "2026-01-31T09:30:00", "2026-01-31",
		"2026-02-30T00:00:00Z", "2026-01-31T24:00:00Z", "2026-01-31T09:30:00.Z", "+2026-01-31T09:30:00Z",
		"2026-01-31T09:30:00UTC", "２０２６-01-31T09:30:00Z", "2026-01-31T09:30:00Z ", "",
	} {
		if _, err := model.UnmarshalTime(in); retention.ErrorCode(err) != retention.CodeBadUserInput {
			t.Errorf("%q: got %v, want BAD_USER_INPUT", in, err)
		}
	}
}
