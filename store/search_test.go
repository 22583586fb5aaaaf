package store_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// searchHardCases are searches that differ between naive implementations;
// each must give the same customers on SQLite and PostgreSQL.
var searchPeople = []struct{ key, first, last, email, phone string }{
	{"jose", "José", "Álvarez", "jose@example.org", "+44 7700 949842"},
	{"zoe", "Zoe\u0308", "Brontë", "zoe@example.org", "07700 900123"}, // Zoë in NFD
	{"anna", "Anna", "Fischer", "anna.f@example.org", "+49 30 1234567"},
	{"anna2", "Anna Maria", "Schmidt", "", ""},
	{"pct", "100%_sure", "O'Neil\\x", "pct%_x@example.org", ""},
	{"max", "Ma\U0010FFFFx", "Lee", "", ""},
	{"bob", "Bob", "Annan", "b@example.org", "555-0101"},
}

var searchHardCases = []struct {
	query string
	want  []string
}{
	{"jose", []string{"jose"}},
	{"JOSÉ", []string{"jose"}},
	{"Jose\u0301", []string{"jose"}}, // é in NFD
	{"alvarez jose", []string{"jose"}},
	{"zoë", []string{"zoe"}},
	{"Zoe\u0308", []string{"zoe"}},
	{"zoe bronte", []string{"zoe"}},
	{"fischer anna", []string{"anna"}},
	{"anna", []string{"anna", "anna2", "bob"}},
	{"maria anna", []string{"anna2"}},
	{"schmidt maria", []string{"anna2"}},
	{"07700 949842", []string{"jose"}},
	{"+44 7700 900123", []string{"zoe"}},
	{"+44 77", []string{"jose", "zoe"}},
	{"0770", []string{"jose", "zoe"}},
	{"030 1234", nil}, // a German number read as British
	{"+49 30", []string{"anna"}},
	{"555", []string{"bob"}},
	{"%", nil},
	{"_", nil},
	{"'", nil},
	{"\\", nil},
	{"100%_", []string{"pct"}},
	{"o'neil\\", []string{"pct"}},
	{"pct%_x@", []string{"pct"}},
	{"ma", []string{"anna2", "max"}},
	{"ma\U0010FFFF", []string{"max"}},
	{"a", []string{"anna", "anna2", "bob", "jose"}},
	{"z", []string{"zoe"}},
	{"q", nil},
	{"", []string{"anna", "anna2", "bob", "jose", "max", "pct", "zoe"}},
}

func TestSearchHardCasesSameOnBothDatabases(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	results := map[store.Dialect]map[string][]string{}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		keyOf := map[string]string{}
		for _, p := range searchPeople {
			pd := retention.PersonalData{FirstName: sp(p.first), LastName: sp(p.last)}
			if p.email != "" {
				pd.Email = sp(p.email)
			}
			if p.phone != "" {
				pd.Phone = sp(p.phone)
			}
			c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: pd})
			if err != nil {
				t.Fatalf("create %s: %v", p.key, err)
			}
			keyOf[c.ID] = p.key
		}
		got := map[string][]string{}
		hundred := 100
		for _, tc := range searchHardCases {
			page, err := svc.SearchCustomers(ctx, tc.query, &hundred, nil)
			if err != nil {
				t.Fatalf("search %q: %v", tc.query, err)
			}
			var keys []string
			for _, c := range page.Customers {
				keys = append(keys, keyOf[c.ID])
			}
			slices.Sort(keys)
			got[tc.query] = keys
			if !slices.Equal(keys, tc.want) {
				t.Errorf("search %q found %v, want %v", tc.query, keys, tc.want)
			}
			if page.TotalCount != len(tc.want) || page.TotalCapped {
				t.Errorf("search %q: totalCount %d (capped %v), want %d", tc.query, page.TotalCount, page.TotalCapped, len(tc.want))
			}
		}
		mu.Lock()
		results[s.Dialect()] = got
		mu.Unlock()
	})
	if len(results) == 2 && !reflect.DeepEqual(results[store.SQLite], results[store.Postgres]) {
		t.Fatalf("SQLite and PostgreSQL differ:\n%v\n%v", results[store.SQLite], results[store.Postgres])
	}
}

// TestSearchPlansAgree searches words common enough that the store reads
// customers in id order instead of joining candidates, and checks pages,
// counts and the count cap against a brute-force match.
func TestSearchPlansAgree(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		first := []string{"Mario", "Maria", "Marek", "Anna", "Ole"}
		last := []string{"Rossi", "Fischer", "Novak"}
		customers := importCustomers(ctx, t, s, 10000, func(i int) *retention.Customer {
			c := importedCustomer(fmt.Sprintf("cus_%05d", (i*7919)%10000), now)
			c.FirstName, c.LastName = sp(first[i%len(first)]), sp(last[(i/5)%len(last)])
			return c
		})
		for _, q := range []string{"ma", "mar", "maria", "anna fischer", "fischer m", "o", "novak ole"} {
			var want []string
			for _, c := range customers {
				words := strings.Fields(strings.ToLower(*c.FirstName + " " + *c.LastName))
				ok := true
				for _, w := range strings.Fields(q) {
					if !slices.ContainsFunc(words, func(x string) bool { return strings.HasPrefix(x, w) }) {
						ok = false
					}
				}
				if ok {
					want = append(want, c.ID)
				}
			}
			slices.Sort(want)
			var got []string
			var after *string
			n := 100
			for pages := 0; ; pages++ {
				page, err := svc.SearchCustomers(ctx, q, &n, after)
				if err != nil {
					t.Fatal(err)
				}
				wantCount, capped := len(want), false
				if wantCount > retention.MaxSearchCount {
					wantCount, capped = retention.MaxSearchCount, true
				}
				if page.TotalCount != wantCount || page.TotalCapped != capped {
					t.Fatalf("search %q: totalCount %d capped %v, want %d %v", q, page.TotalCount, page.TotalCapped, wantCount, capped)
				}
				for _, c := range page.Customers {
					got = append(got, c.ID)
				}
				if !page.HasNextPage || pages > 100 {
					break
				}
				after = &page.Cursors[len(page.Cursors)-1]
			}
			if !slices.Equal(got, want) {
				t.Fatalf("search %q: %d customers (first %v), want %d (first %v)", q, len(got), got[:min(3, len(got))], len(want), want[:min(3, len(want))])
			}
		}
	})
}

// TestSearchBackfill: customers stored before the search_terms migration
// have no terms; Migrate computes them, in batches, and search finds them.
func TestSearchBackfill(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		for i := range 11 {
			if _, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: retention.PersonalData{
				FirstName: sp(fmt.Sprintf("Renée%d", i)), Phone: sp("07700 900" + fmt.Sprintf("%03d", i%1000))}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, stmt := range []string{"UPDATE customers SET search_words = NULL", "DELETE FROM customer_terms"} {
			if _, err := s.DB().ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		if page, _ := svc.SearchCustomers(ctx, "renee", nil, nil); page.TotalCount != 0 {
			t.Fatalf("terms were not removed: %d", page.TotalCount)
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string]int{"renee": 11, "RENÉE1": 2, "+44 7700 900 00": 10} {
			if page, err := svc.SearchCustomers(ctx, q, nil, nil); err != nil || page.TotalCount != want {
				t.Errorf("after backfill, search %q: %d matches (%v), want %d", q, page.TotalCount, err, want)
			}
		}
	})
}

// TestSearchCountManyTermsPerCustomer: a count reads a word's term rows
// with a limit (PostgreSQL would send them all otherwise); customers with
// many terms of the same prefix fill that limit before the cap is reached,
// and the count must still be exact.
func TestSearchCountManyTermsPerCustomer(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		now := time.Now().UTC().Truncate(time.Microsecond)
		importCustomers(ctx, t, s, 900, func(i int) *retention.Customer {
			c := importedCustomer(fmt.Sprintf("cus_zz_%04d", i), now)
			c.FirstName = sp(fmt.Sprintf("Zz%04[1]da Zz%04[1]db Zz%04[1]dc Zz%04[1]dd Zz%04[1]de", i)) // one customer's terms side by side in the index
			return c
		})
		page, err := svc.SearchCustomers(ctx, "zz", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != 900 || page.TotalCapped {
			t.Fatalf("search \"zz\": totalCount %d (capped %v), want 900: 4,500 term rows, 900 customers", page.TotalCount, page.TotalCapped)
		}
	})
}

// TestSearchOneWord: a search of one word, rare, above the count's cap but
// below the probe limit, and common (and an empty search), counts and pages
// exactly as the customers say; on SQLite it costs two statements (probe
// and count in one, then the page), however many customers match.
func TestSearchOneWord(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		now := time.Now().UTC().Truncate(time.Microsecond)
		customers := importCustomers(ctx, t, s, 5000, func(i int) *retention.Customer {
			c := importedCustomer(fmt.Sprintf("cus_ow_%04d", (i*7919)%5000), now)
			first := "Other"
			switch {
			case i == 4321:
				first = "Rarest"
			case i%3 == 0:
				first = fmt.Sprintf("Midway%d", i)
			}
			c.FirstName, c.LastName = sp(first), sp("Commonwealth")
			return c
		})
		counter := &statementCounter{match: "customer"} // not the collection preferences, read once
		s.AddQueryHook(counter)
		for _, q := range []string{"rarest", "midway", "mid", "commonwealth", "c", "nobody", ""} {
			var want []string
			for _, c := range customers {
				if strings.HasPrefix(strings.ToLower(*c.FirstName), q) || strings.HasPrefix(strings.ToLower(*c.LastName), q) {
					want = append(want, c.ID)
				}
			}
			slices.Sort(want)
			n := 10
			counter.n.Store(0)
			page, err := svc.SearchCustomers(ctx, q, &n, nil)
			if err != nil {
				t.Fatal(err)
			}
			statements := counter.n.Load()
			wantCount := min(len(want), retention.MaxSearchCount)
			if page.TotalCount != wantCount || page.TotalCapped != (len(want) > retention.MaxSearchCount) {
				t.Errorf("search %q: totalCount %d capped %v, want %d of %d", q, page.TotalCount, page.TotalCapped, wantCount, len(want))
			}
			var got []string
			for _, c := range page.Customers {
				got = append(got, c.ID)
			}
			if wantPage := want[:min(n, len(want))]; !slices.Equal(got, wantPage) || page.HasNextPage != (len(want) > n) {
				t.Errorf("search %q: page %v (next %v), want %v", q, got, page.HasNextPage, wantPage)
			}
			if s.Dialect() == store.SQLite && statements != 2 {
				t.Errorf("search %q: %d statements on SQLite, want 2", q, statements)
			}
		}
	})
}

// importedCustomer is an active customer created at now, as ImportCustomers
// takes it; the test sets its names.
func importedCustomer(id string, now time.Time) *retention.Customer {
	return &retention.Customer{ID: id, Status: retention.StatusActive, CreatedAt: now, TouchedAt: now,
		Timeline: retention.Timeline{LatestEnd: now, LatestKind: retention.EventCreated}}
}

// importCustomers imports the n customers that customer makes and returns
// them.
func importCustomers(ctx context.Context, t *testing.T, s *store.Store, n int, customer func(i int) *retention.Customer) []*retention.Customer {
	t.Helper()
	customers := make([]*retention.Customer, n)
	for i := range customers {
		customers[i] = customer(i)
	}
	if err := s.ImportCustomers(ctx, customers, nil, nil); err != nil {
		t.Fatal(err)
	}
	return customers
}

// searchPeopleWritten are names, emails and phones as people write them
// (issue 24): compound, hyphenated and apostrophe names, letters with no
// accent to strip, umlauts written out, words of an email's local part,
// the last digits of a phone.
var searchPeopleWritten = []struct{ key, first, last, email, phone string }{
	{"obrien", "Siobhán", "O\u2019Brien", "s.obrien@example.ie", "+353 1 555 0142"},
	{"smithjones", "Anne-Marie", "Smith-Jones", "anne_marie.smith+news@example.org", "07700 900461"},
	{"strauss", "Jürgen", "Strauß", "j.strauss@example.de", "+49 30 9876543"},
	{"soren", "Søren", "Kierkegård", "", "+45 33 12 34 56"},
	{"aesa", "Æsa", "Łukasiewicz", "aesa@example.pl", ""},
	{"mueller", "Jörg", "Müller", "", ""},
	{"vandenberg", "Pieter", "van den Berg", "pieter@example.nl", "+31 20 555 0199"},
}

var searchWrittenCases = []struct {
	query string
	want  []string
}{
	{"brien", []string{"obrien"}},
	{"o'brien", []string{"obrien"}},
	{"O’Brien", []string{"obrien"}},
	{"obrien", []string{"obrien"}},
	{"siobhan", []string{"obrien"}},
	{"jones", []string{"smithjones"}},
	{"smith-jones", []string{"smithjones"}},
	{"marie smith", []string{"smithjones"}},
	{"anne marie", []string{"smithjones"}},
	{"strauss", []string{"strauss"}},
	{"STRAUß", []string{"strauss"}},
	{"jurgen", []string{"strauss"}},
	{"juergen", []string{"strauss"}},
	{"soren", []string{"soren"}},
	{"søren", []string{"soren"}},
	{"kierkegard", []string{"soren"}},
	{"aesa", []string{"aesa"}},
	{"lukasiewicz", []string{"aesa"}},
	{"mueller", []string{"mueller"}},
	{"muller", []string{"mueller"}},
	{"joerg", []string{"mueller"}},
	{"den berg", []string{"vandenberg"}},
	{"news", []string{"smithjones"}},
	{"marie", []string{"smithjones"}},
	{"0142", []string{"obrien"}},
	{"555 0142", []string{"obrien"}},
	{"0461", []string{"smithjones"}},
	{"900461", []string{"smithjones"}},
	{"0199", []string{"vandenberg"}},
	{"555", nil}, // three digits: too few to match the end of a number
	{"+0142", nil},
	{"example", nil}, // the domain is not a word
	{"-", nil},
}

// TestSearchAsWrittenSameOnBothDatabases checks searchWrittenCases on both
// databases, and that they agree.
func TestSearchAsWrittenSameOnBothDatabases(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	results := map[store.Dialect]map[string][]string{}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, svc := context.Background(), newService(s)
		keyOf := map[string]string{}
		for _, p := range searchPeopleWritten {
			pd := retention.PersonalData{FirstName: sp(p.first), LastName: sp(p.last)}
			if p.email != "" {
				pd.Email = sp(p.email)
			}
			if p.phone != "" {
				pd.Phone = sp(p.phone)
			}
			c, err := svc.CreateCustomer(ctx, retention.CustomerInput{PersonalData: pd})
			if err != nil {
				t.Fatalf("create %s: %v", p.key, err)
			}
			keyOf[c.ID] = p.key
		}
		got := map[string][]string{}
		hundred := 100
		for _, tc := range searchWrittenCases {
			page, err := svc.SearchCustomers(ctx, tc.query, &hundred, nil)
			if err != nil {
				t.Fatalf("search %q: %v", tc.query, err)
			}
			var keys []string
			for _, c := range page.Customers {
				keys = append(keys, keyOf[c.ID])
			}
			slices.Sort(keys)
			got[tc.query] = keys
			if !slices.Equal(keys, tc.want) || page.TotalCount != len(tc.want) {
				t.Errorf("search %q found %v (total %d), want %v", tc.query, keys, page.TotalCount, tc.want)
			}
		}
		// Hiding the phone hides its last digits too.
		hidden := retention.ModeHidden
		if _, err := svc.UpdateFieldPreferences(ctx, nil, map[retention.Field]retention.FieldMode{retention.FieldPhone: hidden}, true); err != nil {
			t.Fatal(err)
		}
		if page, err := svc.SearchCustomers(ctx, "0142", &hundred, nil); err != nil || len(page.Customers) != 0 {
			t.Errorf("the last digits of a hidden phone still find %d customers (%v)", len(page.Customers), err)
		}
		mu.Lock()
		results[s.Dialect()] = got
		mu.Unlock()
	})
	if len(results) == 2 && !reflect.DeepEqual(results[store.SQLite], results[store.Postgres]) {
		t.Fatalf("SQLite and PostgreSQL differ:\n%v\n%v", results[store.SQLite], results[store.Postgres])
	}
}
