// Package searchkey turns a customer's personal data into search terms, and
// a search text into the terms it must match, so that a search finds people
// the way a person types them: in any letter case, with or without accents,
// in any Unicode form, in any word order, and phone numbers in national or
// international form. Letters with no accent to strip are written the usual
// Latin way (ß as ss, ø as o, æ as ae, ł as l); every part of a compound,
// hyphenated or apostrophe name is a word of its own (and the name written
// together: "obrien" finds O'Brien); German umlauts are also found written
// out ("mueller" finds Müller); the words of an email's local part are
// words; and a phone number is found by its last digits too.
//
// Both sides are normalised here, in Go, so that SQLite and PostgreSQL
// compare plain bytes and give the same results; the databases need no
// collation, extension or LIKE pattern (so %, _ and \ are ordinary
// characters).
package searchkey

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"
)

// Kind marks which field a term came from, so that a field hidden by the
// collection preferences is not searched. A term is Kind + ":" + text.
type Kind byte

const (
	FirstName Kind = 'f'
	LastName  Kind = 'l'
	Email     Kind = 'e'
	Phone     Kind = 'p'
	// PhoneEnd is a phone's digits reversed, so that its last digits are a
	// prefix: it belongs to the phone field (hidden with it).
	PhoneEnd Kind = 'r'
)

// MinPhoneEndDigits is the fewest digits a search must have to match the
// end of phone numbers: fewer would match a tenth, a hundredth… of all.
const MinPhoneEndDigits = 4

// DefaultRegion is the phone region used when none is configured.
const DefaultRegion = "GB"

// Keys computes terms with a default phone region: the country assumed for
// numbers written in national form ("07700 949842").
type Keys struct {
	region string
	// memo remembers the international form of phone numbers already
	// parsed: the phone library's parse costs tens of microseconds (it
	// runs regular expressions), and a bulk load or a busy server meets
	// the same numbers again and again. nil (a zero Keys) parses every time.
	memo *phoneMemo
}

// phoneMemo is a bounded map from a phone as written to the extra form
// phoneForms adds for it ("" for none). Its size is capped; when full it is
// emptied and refilled, so memory stays a few megabytes whatever the input.
type phoneMemo struct {
	mu    sync.Mutex
	forms map[string]string
}

// phoneMemoSize bounds the memo: about 100 bytes an entry.
const phoneMemoSize = 1 << 17

func (m *phoneMemo) get(s string) (string, bool) {
	if m == nil {
		return "", false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.forms[s]
	return f, ok
}

func (m *phoneMemo) put(s, form string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.forms) >= phoneMemoSize {
		clear(m.forms)
	}
	m.forms[strings.Clone(s)] = form
}

// New returns Keys for a region (ISO 3166 alpha-2, e.g. "GB", "DE", "US").
// ok is false for a region the phone library does not know.
func New(region string) (k Keys, ok bool) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region == "" {
		region = DefaultRegion
	}
	if !phonenumbers.GetSupportedRegions()[region] {
		return Keys{region: DefaultRegion, memo: newPhoneMemo()}, false
	}
	return Keys{region: region, memo: newPhoneMemo()}, true
}

func newPhoneMemo() *phoneMemo { return &phoneMemo{forms: map[string]string{}} }

// Region is the default phone region.
func (k Keys) Region() string {
	if k.region == "" {
		return DefaultRegion
	}
	return k.region
}

// Fold lower-cases s, removes accents and other combining marks, writes
// letters that have no accent to strip the usual Latin way (ß as ss, ø as
// o, æ as ae, ł as l…), makes every apostrophe ' and every hyphen -, and
// composes what remains (NFC), so that "José", "JOSE" and "Jose" with a
// combining acute accent all fold to "jose". Whitespace runs become one
// space.
func Fold(s string) string {
	s = norm.NFD.String(strings.ToLower(s))
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if t, ok := latin[r]; ok {
			b.WriteString(t)
			continue
		}
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

// latin is how letters without a decomposition are usually written in
// plain Latin letters, and the other apostrophes and hyphens people type.
var latin = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'ø': "o", 'æ': "ae", 'œ': "oe", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i", 'ħ': "h", 'ŧ': "t",
	'\u2019': "'", '\u2018': "'", '\u02bc': "'", '`': "'", '\u00b4': "'",
	'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2013': "-", '\u2014': "-",
}

// umlauts writes German umlauts out (ä as ae), the other usual spelling of
// a name like Müller; Fold alone gives "muller".
var umlauts = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "a\u0308", "ae", "o\u0308", "oe", "u\u0308", "ue")

// nameWords are the words a name is found by: each word, each part of a
// hyphenated or apostrophe word, and such a word written together.
func nameWords(folded string) []string {
	var out []string
	for _, w := range strings.Fields(folded) {
		out = append(out, w)
		parts := strings.FieldsFunc(w, func(r rune) bool { return r == '-' || r == '\'' })
		if len(parts) > 1 || (len(parts) == 1 && parts[0] != w) {
			out = append(out, parts...)
			out = append(out, strings.Join(parts, ""))
		}
	}
	return out
}

// emailWords are the words of an email's local part ("jane.doe-smith" gives
// jane, doe, smith), when it has more than one.
func emailWords(folded string) []string {
	local := folded
	if at := strings.LastIndexByte(folded, '@'); at >= 0 {
		local = folded[:at]
	}
	parts := strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '_' || r == '-' || r == '+' })
	if len(parts) < 2 {
		return nil
	}
	return parts
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// phoneForms are the digit strings a phone number is found by: the digits
// as written, and the international number (country code first). A
// complete number is read by the phone-number library (which knows
// international dialling prefixes and each country's trunk prefix); a
// partial one, as a person types it, is taken as international when it
// starts with "+", else as national: the default region's trunk prefix
// ("0" in GB) is replaced by its country code, so that "07700 94" finds
// "+44 7700 949842" and "+44 77" finds "07700 949842".
func (k Keys) phoneForms(s string) []string {
	raw := digits(s)
	if raw == "" {
		return nil
	}
	if f, ok := k.memo.get(s); ok {
		if f == "" {
			return []string{raw}
		}
		return []string{raw, f}
	}
	forms := k.parsePhoneForms(s, raw)
	extra := ""
	if len(forms) > 1 {
		extra = forms[1]
	}
	k.memo.put(s, extra)
	return forms
}

// parsePhoneForms is phoneForms without the memo: raw is digits(s).
func (k Keys) parsePhoneForms(s, raw string) []string {
	forms := []string{raw}
	add := func(f string) {
		if f != "" && f != raw && (len(forms) == 1 || forms[1] != f) {
			forms = append(forms, f)
		}
	}
	if n, err := phonenumbers.Parse(s, k.Region()); err == nil && phonenumbers.IsValidNumber(n) {
		add(digits(phonenumbers.Format(n, phonenumbers.E164)))
		return forms
	}
	if strings.HasPrefix(strings.TrimSpace(s), "+") {
		return forms
	}
	cc := strconv.Itoa(phonenumbers.GetCountryCodeForRegion(k.Region()))
	if ndd := phonenumbers.GetNddPrefixForRegion(k.Region(), true); ndd != "" && strings.HasPrefix(raw, ndd) {
		add(cc + raw[len(ndd):])
	} else {
		add(cc + raw)
	}
	return forms
}

func term(kind Kind, text string) string { return string(kind) + ":" + text }

// Terms returns the distinct search terms of a customer's data, in a stable
// order. Names give one term per word; the email one term; the phone its
// digit forms.
func (k Keys) Terms(first, last, email, phone *string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, f := range []struct {
		kind Kind
		v    *string
	}{{FirstName, first}, {LastName, last}} {
		if f.v == nil {
			continue
		}
		folded := Fold(*f.v)
		for _, w := range nameWords(folded) {
			add(term(f.kind, w))
		}
		if alt := Fold(umlauts.Replace(strings.ToLower(*f.v))); alt != folded {
			for _, w := range nameWords(alt) {
				add(term(f.kind, w))
			}
		}
	}
	if email != nil {
		if e := strings.ReplaceAll(Fold(*email), " ", ""); e != "" {
			add(term(Email, e))
			for _, w := range emailWords(e) {
				add(term(Email, w))
			}
		}
	}
	if phone != nil {
		for _, d := range k.phoneForms(*phone) {
			add(term(Phone, d))
		}
		if d := digits(*phone); d != "" {
			add(term(PhoneEnd, reverse(d)))
		}
	}
	return out
}

// Words joins terms into the text stored beside a customer: each term
// preceded by a space and the whole followed by one, so that " "+prefix
// found in it means that some term starts with prefix.
func Words(terms []string) string {
	if len(terms) == 0 {
		return ""
	}
	return " " + strings.Join(terms, " ") + " "
}

// Query is a search text as terms: a customer matches when, for every Word,
// one of its Alternatives is a prefix of one of the customer's terms.
type Query struct {
	Words [][]string
}

// Empty reports whether the query matches everything (no text).
func (q Query) Empty() bool { return len(q.Words) == 0 }

// None reports whether the query can match nothing (a word with no
// searchable field left).
func (q Query) None() bool {
	for _, w := range q.Words {
		if len(w) == 0 {
			return true
		}
	}
	return false
}

// Query turns a search text into terms, searching only the kinds in
// visible. Text with no letter is read as a phone number (spaces,
// brackets and dashes ignored), and also as a literal prefix of a name or
// email when it is one word.
func (k Keys) Query(text string, visible map[Kind]bool) Query {
	folded := Fold(text)
	if folded == "" {
		return Query{}
	}
	var q Query
	textKinds := func(w string) []string {
		var alts []string
		for _, kind := range []Kind{FirstName, LastName, Email} {
			if visible[kind] {
				alts = append(alts, term(kind, w))
			}
		}
		return alts
	}
	if !hasLetter(folded) && digits(folded) != "" {
		var alts []string
		if visible[Phone] {
			for _, d := range k.phoneForms(folded) {
				alts = append(alts, term(Phone, d))
			}
			// The last digits, unless the number is written as
			// international (a leading +) or is too short to say much.
			if d := digits(folded); !strings.HasPrefix(folded, "+") && len(d) >= MinPhoneEndDigits {
				alts = append(alts, term(PhoneEnd, reverse(d)))
			}
		}
		if !strings.Contains(folded, " ") {
			alts = append(alts, textKinds(folded)...)
		}
		q.Words = append(q.Words, alts)
		return q
	}
	seen := map[string]bool{}
	for _, w := range strings.Fields(folded) {
		if seen[w] {
			continue
		}
		seen[w] = true
		q.Words = append(q.Words, textKinds(w))
	}
	return q
}

// Successor returns the least string greater than every string that starts
// with prefix, byte-wise (UTF-8 byte order is code point order): the prefix
// with its last character incremented. ok is false when there is none (the
// prefix is all U+10FFFF). A range prefix <= s < Successor(prefix) holds
// exactly the strings that start with prefix, U+10FFFF after the prefix
// included.
func Successor(prefix string) (string, bool) {
	for prefix != "" {
		r, size := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-size]
		switch {
		case r == utf8.MaxRune || r == utf8.RuneError && size <= 1:
			continue
		case r == 0xD7FF:
			return prefix + string(rune(0xE000)), true
		default:
			return prefix + string(r+1), true
		}
	}
	return "", false
}
