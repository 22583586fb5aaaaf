package retention

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field is a personal field of a customer.
type Field string

const (
	FieldFirstName Field = "FIRST_NAME"
	FieldLastName  Field = "LAST_NAME"
	FieldEmail     Field = "EMAIL"
	FieldPhone     Field = "PHONE"
)

// AllFields lists the personal fields in display order.
var AllFields = []Field{FieldFirstName, FieldLastName, FieldEmail, FieldPhone}

// InputName is the name of the field in API inputs, for error messages.
func (f Field) InputName() string {
	switch f {
	case FieldFirstName:
		return "firstName"
	case FieldLastName:
		return "lastName"
	case FieldEmail:
		return "email"
	case FieldPhone:
		return "phone"
	}
	return string(f)
}

// FieldMode says whether a field is collected.
type FieldMode string

const (
	ModeRequired FieldMode = "REQUIRED"
	ModeOptional FieldMode = "OPTIONAL"
	// ModeHidden: not collected, stored or displayed.
	ModeHidden FieldMode = "HIDDEN"
)

// Valid reports whether m is a known mode.
func (m FieldMode) Valid() bool { return m == ModeRequired || m == ModeOptional || m == ModeHidden }

// FieldPreferences are the global collection preferences, enforced on every
// write and read of personal data.
type FieldPreferences struct {
	CollectionEnabled bool
	Modes             map[Field]FieldMode
}

// DefaultFieldPreferences: collection on, every field optional.
func DefaultFieldPreferences() FieldPreferences {
	p := FieldPreferences{CollectionEnabled: true, Modes: map[Field]FieldMode{}}
	for _, f := range AllFields {
		p.Modes[f] = ModeOptional
	}
	return p
}

// Mode returns the mode of f, OPTIONAL when unset.
func (p FieldPreferences) Mode(f Field) FieldMode {
	if m, ok := p.Modes[f]; ok {
		return m
	}
	return ModeOptional
}

// Visible reports whether f may be collected and displayed now.
func (p FieldPreferences) Visible(f Field) bool {
	return p.CollectionEnabled && p.Mode(f) != ModeHidden
}

// CheckCustomerInput enforces the preferences on a customer's personal data:
// a missing REQUIRED field or any field that is not collected is refused,
// naming the field. The values themselves are checked by NormalizePersonalData.
func (p FieldPreferences) CheckCustomerInput(in PersonalData) error {
	for _, f := range AllFields {
		v := in.Get(f)
		if v != nil && !p.Visible(f) {
			if !p.CollectionEnabled {
				return FieldErrorf(f.InputName(), "%s is not accepted: personal data collection is disabled", f.InputName())
			}
			return FieldErrorf(f.InputName(), "%s is not collected (HIDDEN in the collection preferences)", f.InputName())
		}
		if v == nil && p.CollectionEnabled && p.Mode(f) == ModeRequired {
			return FieldErrorf(f.InputName(), "%s is required by the collection preferences", f.InputName())
		}
	}
	return nil
}

// CheckVisitorInput enforces the preferences on walk-in visitor data: what
// is not collected is refused; nothing is required of a walk-in.
func (p FieldPreferences) CheckVisitorInput(in PersonalData) error {
	for _, f := range AllFields {
		if in.Get(f) != nil && !p.Visible(f) {
			return FieldErrorf("visitor."+f.InputName(), "visitor.%s is not collected under the current collection preferences", f.InputName())
		}
	}
	return nil
}

// Mask returns data with every field that is not displayed now removed.
func (p FieldPreferences) Mask(data PersonalData) PersonalData {
	var out PersonalData
	for _, f := range AllFields {
		if p.Visible(f) {
			out.Set(f, data.Get(f))
		}
	}
	return out
}

// MaxTextBytes bounds every free-text input.
const MaxTextBytes = 1024

func validateText(field, s string) error {
	if len(s) > MaxTextBytes {
		return FieldErrorf(field, "%s is too long: at most %d bytes", field, MaxTextBytes)
	}
	if !utf8.ValidString(s) {
		return FieldErrorf(field, "%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return FieldErrorf(field, "%s contains control characters", field)
		}
	}
	return nil
}

// NormalizePersonalData trims every given field, drops empty ones, and
// checks lengths, email and phone formats. prefix is prepended to field names
// in errors ("visitor.").
func NormalizePersonalData(prefix string, in PersonalData) (PersonalData, error) {
	var out PersonalData
	for _, f := range AllFields {
		v := in.Get(f)
		if v == nil {
			continue
		}
		name := prefix + f.InputName()
		if err := validateText(name, *v); err != nil {
			return PersonalData{}, err
		}
		s := strings.TrimSpace(*v)
		if s == "" {
			continue
		}
		switch f {
		case FieldEmail:
			if err := checkEmail(name, s); err != nil {
				return PersonalData{}, err
			}
		case FieldPhone:
			if err := checkPhone(name, s); err != nil {
				return PersonalData{}, err
			}
		}
		out.Set(f, &s)
	}
	return out, nil
}

func checkEmail(field, s string) error {
	addr, err := mail.ParseAddress(s)
	at := strings.LastIndexByte(s, '@')
	if err != nil || addr.Address != s || at < 1 || !strings.Contains(s[at+1:], ".") || strings.ContainsAny(s, " <>") {
		return FieldErrorf(field, "%s %q is not a valid email address (expected name@example.com)", field, Truncate(s, 60))
	}
	return nil
}

func checkPhone(field, s string) error {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')', r == '.', r == '/':
		default:
			return FieldErrorf(field, "%s %q is not a valid phone number: use digits, spaces, + ( ) - . /", field, Truncate(s, 60))
		}
	}
	if digits < 3 || digits > 20 {
		return FieldErrorf(field, "%s %q must have between 3 and 20 digits", field, Truncate(s, 60))
	}
	return nil
}

func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Custom fields of visits.
var CustomFields = []string{"custom1", "custom2", "custom3", "custom4", "custom5"}

// CustomFieldStorage says, per custom field, whether its value is stored in
// the statistics database.
type CustomFieldStorage map[string]bool

// DefaultCustomFieldStorage: every custom field is stored.
func DefaultCustomFieldStorage() CustomFieldStorage {
	s := CustomFieldStorage{}
	for _, f := range CustomFields {
		s[f] = true
	}
	return s
}

// ValidateCustomField checks that name is one of the custom fields.
func ValidateCustomField(param, name string) error {
	for _, f := range CustomFields {
		if f == name {
			return nil
		}
	}
	return FieldErrorf(param, "unknown custom field %q: use one of %s", Truncate(name, 40), strings.Join(CustomFields, ", "))
}

// Copy returns an independent copy.
func (s CustomFieldStorage) Copy() CustomFieldStorage {
	out := CustomFieldStorage{}
	for k, v := range s {
		out[k] = v
	}
	return out
}

// ValidateCustomFieldValues checks a visit's custom field values.
func ValidateCustomFieldValues(values []CustomFieldValue) error {
	seen := map[string]bool{}
	for _, v := range values {
		if err := ValidateCustomField("customFields.field", v.Field); err != nil {
			return err
		}
		if seen[v.Field] {
			return FieldErrorf("customFields", "custom field %s is given twice", v.Field)
		}
		seen[v.Field] = true
		if v.Value != nil {
			if err := validateText(fmt.Sprintf("customFields.%s", v.Field), *v.Value); err != nil {
				return err
			}
		}
	}
	return nil
}
