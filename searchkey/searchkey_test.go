package searchkey_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/searchkey"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"José": "jose", "Jose\u0301": "jose", "ZOË": "zoe", "Zoe\u0308": "zoe", "  Anna   Maria ": "anna maria",
		"Ångström": "angstrom", "100%_x": "100%_x", "o'neil\\": "o'neil\\", "ma\U0010FFFF": "ma\U0010FFFF",
	} {
		if got := searchkey.Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSuccessor(t *testing.T) {
	for _, p := range []string{"f:a", "f:ma\U0010FFFF", "f:\uD7FF", "e:x%"} {
		up, ok := searchkey.Successor(p)
		if !ok {
			t.Fatalf("no successor for %q", p)
		}
		for _, s := range []string{p, p + "\U0010FFFF", p + "zzz", p + "\U0010FFFF\U0010FFFF"} {
			if !(s >= p && s < up) {
				t.Errorf("%q not in [%q, %q)", s, p, up)
			}
		}
		if strings.HasPrefix(up, p) {
			t.Errorf("successor %q of %q starts with it", up, p)
		}
	}
	if _, ok := searchkey.Successor("\U0010FFFF"); ok {
		t.Error("all-U+10FFFF prefix has a successor")
	}
}

func TestPhoneTerms(t *testing.T) {
	gb, _ := searchkey.New("GB")
	stored := gb.Terms(nil, nil, nil, ptr("+44 7700 949842"))
	if !slices.Contains(stored, "p:447700949842") {
		t.Fatalf("terms %v", stored)
	}
	national := gb.Terms(nil, nil, nil, ptr("07700 949842"))
	if !slices.Contains(national, "p:447700949842") || !slices.Contains(national, "p:07700949842") {
		t.Fatalf("terms %v", national)
	}
	q := gb.Query("07700 94", map[searchkey.Kind]bool{searchkey.Phone: true})
	if len(q.Words) != 1 || !slices.Contains(q.Words[0], "p:44770094") {
		t.Fatalf("query %v", q)
	}
	de, _ := searchkey.New("de")
	if q := de.Query("030 1234", map[searchkey.Kind]bool{searchkey.Phone: true}); !slices.Contains(q.Words[0], "p:49301234") {
		t.Fatalf("German national form: %v", q)
	}
	if _, ok := searchkey.New("XX"); ok {
		t.Fatal("unknown region accepted")
	}
}

func TestQueryHidesFields(t *testing.T) {
	k, _ := searchkey.New("")
	q := k.Query("anna", map[searchkey.Kind]bool{searchkey.LastName: true})
	if len(q.Words) != 1 || !slices.Equal(q.Words[0], []string{"l:anna"}) {
		t.Fatalf("query %v", q)
	}
	if q := k.Query("anna", nil); !q.None() {
		t.Fatalf("nothing visible, query %v can match", q)
	}
}

func ptr(s string) *string { return &s }

// The memo of parsed phone numbers changes no result: the same phones give
// the same terms the first time (parsed), the second (remembered), and from
// a zero Keys, which parses every time.
func TestPhoneMemoGivesTheParsedTerms(t *testing.T) {
	k, ok := searchkey.New("GB")
	if !ok {
		t.Fatal("GB unknown")
	}
	phones := []string{"+44 7700 900123", "07700 900123", "+44 (0) 7700 900123", "0049 30 1234567", "+49 30 1234567",
		"12", "+1", "not a phone", "", "07700 9", "+44 7700 900123 ext. 5"}
	for _, p := range phones {
		first := k.Terms(nil, nil, nil, &p)
		again := k.Terms(nil, nil, nil, &p)
		plain := searchkey.Keys{}.Terms(nil, nil, nil, &p)
		if !slices.Equal(first, again) || !slices.Equal(first, plain) {
			t.Errorf("%q: terms %q, then %q from the memo, %q without it", p, first, again, plain)
		}
	}
	p := "07700 900123"
	if got := k.Terms(nil, nil, nil, &p); !slices.Contains(got, "p:447700900123") {
		t.Errorf("national phone gives %q, want its international form among them", got)
	}
}

func TestFoldLatin(t *testing.T) {
	for in, want := range map[string]string{
		"Straße": "strasse", "Søren": "soren", "Æsa": "aesa", "Łódź": "lodz", "O\u2019Brien": "o'brien", "Smith\u2010Jones": "smith-jones",
	} {
		if got := searchkey.Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTermsAsWritten(t *testing.T) {
	gb, _ := searchkey.New("GB")
	terms := gb.Terms(ptr("Anne-Marie"), ptr("O'Brien Müller"), ptr("anne_marie.x+news@example.org"), ptr("07700 900461"))
	for _, want := range []string{"f:anne-marie", "f:anne", "f:marie", "f:annemarie", "l:o'brien", "l:o", "l:brien", "l:obrien",
		"l:muller", "l:mueller", "e:anne_marie.x+news@example.org", "e:anne", "e:marie", "e:news", "r:16400900770"} {
		if !slices.Contains(terms, want) {
			t.Errorf("terms %v lack %q", terms, want)
		}
	}
	q := gb.Query("0461", map[searchkey.Kind]bool{searchkey.Phone: true})
	if !slices.Contains(q.Words[0], "r:1640") {
		t.Errorf("query %v does not look at the last digits", q)
	}
	if q := gb.Query("0461", map[searchkey.Kind]bool{searchkey.FirstName: true}); slices.Contains(q.Words[0], "r:1640") {
		t.Errorf("a hidden phone's last digits are searched: %v", q)
	}
	if q := gb.Query("461", map[searchkey.Kind]bool{searchkey.Phone: true}); slices.Contains(q.Words[0], "r:164") {
		t.Errorf("three digits match the end of numbers: %v", q)
	}
}
