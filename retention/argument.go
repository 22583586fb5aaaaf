package retention

import (
	"strings"
	"unicode/utf8"
)

// CheckArgument refuses a string argument that no store can hold, so that
// it is answered BAD_USER_INPUT instead of failing in SQL: PostgreSQL
// refuses NUL and invalid UTF-8 in text, and SQLite's driver cuts a
// statement at NUL. The API edge checks every string it receives with it
// (IDs, names, cursors, search terms), in one place, before any use case.
func CheckArgument(field, s string) error {
	if !utf8.ValidString(s) {
		return FieldErrorf(field, "%s is not valid UTF-8", field)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return FieldErrorf(field, "%s contains a NUL character (U+0000), which no text may hold", field)
	}
	return nil
}
