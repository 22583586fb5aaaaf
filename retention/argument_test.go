package retention_test

import (
	"testing"

	"github.com/lethe-privacy/lethe/retention"
)

func TestCheckArgument(t *testing.T) {
	for s, ok := range map[string]bool{
		"cus_1": true, "Zoë \U0010FFFF": true, "": true, "a\nb\tc": true,
		"x\x00y": false, "\x00": false, "x\xffy": false, "\xc3": false,
	} {
		err := retention.CheckArgument("id", s)
		if (err == nil) != ok {
			t.Errorf("%q: %v", s, err)
		}
		if err != nil && retention.ErrorCode(err) != retention.CodeBadUserInput {
			t.Errorf("%q: code %s", s, retention.ErrorCode(err))
		}
	}
}
