package retention

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// SortKey is what a list of customers is ordered by; the zero value is id
// order (the order of a search without a sort).
type SortKey string

const (
	SortByID SortKey = ""
	// SortByName orders by last name, then first name, as search folds
	// them (case, accents and ß/ø/æ… ignored), the same on every
	// database; customers without a name (anonymised) come after the
	// named ones.
	SortByName SortKey = "NAME"
	// SortByDeletionTime orders by deletionTime under the rules in force;
	// customers without one (a visit open, a legal hold) come last in
	// both directions.
	SortByDeletionTime SortKey = "DELETION_TIME"
	// SortByLastInteraction orders by the end of the latest event: the
	// last interaction of a customer with nothing ahead; a customer with
	// an appointment booked or a visit open counts as the most recent.
	SortByLastInteraction SortKey = "LAST_INTERACTION"
)

// CustomerOrder is a sort and its direction.
type CustomerOrder struct {
	Key  SortKey
	Desc bool
}

// Valid reports whether the key is one of the sorts above.
func (o CustomerOrder) Valid() bool {
	switch o.Key {
	case SortByID, SortByName, SortByDeletionTime, SortByLastInteraction:
		return true
	}
	return false
}

// SortValue is a customer's value of a sort: Text for names, Time for
// times (nil: the customer has none, as a deletion time under a hold).
type SortValue struct {
	Text string
	Time *time.Time
}

// sortCursor is what a cursor of a sorted list carries: the sort it was
// made for, and the last customer's value and id, so the next page starts
// after it by a range on the sort's index (keyset), wherever that
// customer has moved since.
type sortCursor struct {
	Key  SortKey `json:"k"`
	Desc bool    `json:"d,omitempty"`
	Text string  `json:"s,omitempty"`
	Time *int64  `json:"t,omitempty"`
	ID   string  `json:"id"`
}

const sortCursorPrefix = "customers:"

// EncodeSortCursor makes the cursor of customer id at value v in order o.
func EncodeSortCursor(o CustomerOrder, id string, v SortValue) string {
	if o.Key == SortByID {
		return EncodeCursor(id)
	}
	c := sortCursor{Key: o.Key, Desc: o.Desc, Text: v.Text, ID: id}
	if v.Time != nil {
		us := v.Time.UnixMicro()
		c.Time = &us
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(append([]byte(sortCursorPrefix), b...))
}

// decodeSortCursor reads a cursor made for order o: its customer id and
// value. A cursor of another order is refused (its position means nothing
// in this one).
func decodeSortCursor(o CustomerOrder, cursor string) (string, SortValue, error) {
	if o.Key == SortByID {
		id, err := decodeCursor(cursor)
		return id, SortValue{}, err
	}
	bad := FieldErrorf("after", "cursor %q is not valid for this order: pass an endCursor or edge cursor from a previous page sorted the same way", Truncate(cursor, 40))
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) > 1000 || !strings.HasPrefix(string(raw), sortCursorPrefix) {
		return "", SortValue{}, bad
	}
	var c sortCursor
	if json.Unmarshal(raw[len(sortCursorPrefix):], &c) != nil || c.Key != o.Key || c.Desc != o.Desc || c.ID == "" {
		return "", SortValue{}, bad
	}
	v := SortValue{Text: c.Text}
	if c.Time != nil {
		t := time.UnixMicro(*c.Time).UTC()
		v.Time = &t
	}
	return c.ID, v, nil
}

// DeletionTimeAt is c's deletion time under the rules of cut at cut.At, as
// DeletionTime says it: nil under a legal hold.
func DeletionTimeAt(c *Customer, cut Cutoffs) *time.Time {
	if c.Held(cut.At) {
		return nil
	}
	return ComputeSchedule(c, cut.Policies, cut.Data).DeletionTime
}
