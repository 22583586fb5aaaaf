package httpapi

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// textError says what makes a JSON text unacceptable, or "". Go's JSON
// decoder replaces invalid UTF-8 and escaped lone UTF-16 surrogates
// ("\ud800") with U+FFFD silently, so a name sent that way would be stored
// as something the client never wrote; both are refused instead, as
// RFC 8259 allows (a text that is not Unicode has no meaning to keep).
func textError(b []byte) string {
	if !utf8.Valid(b) {
		i := 0
		for i < len(b) {
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return fmt.Sprintf("the request is not valid UTF-8 (byte %d); send UTF-8 text", i)
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if i+1 >= len(b) || b[i+1] != 'u' {
			i++ // an escape of one character: \" \\ \n …
			continue
		}
		r, ok := escapedUnit(b, i)
		switch {
		case !ok:
			i++
		case r >= 0xD800 && r <= 0xDBFF:
			if low, ok := escapedUnit(b, i+6); ok && low >= 0xDC00 && low <= 0xDFFF {
				i += 11 // a surrogate pair: one character
				continue
			}
			return loneSurrogate(b, i)
		case r >= 0xDC00 && r <= 0xDFFF:
			return loneSurrogate(b, i)
		default:
			i += 5
		}
	}
	return ""
}

// escapedUnit reads the UTF-16 unit of a \uXXXX escape at i.
func escapedUnit(b []byte, i int) (rune, bool) {
	if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
	return rune(v), err == nil
}

func loneSurrogate(b []byte, i int) string {
	return fmt.Sprintf("the request escapes a lone UTF-16 surrogate (%s at byte %d), which is no character; send valid Unicode", b[i:i+6], i)
}
