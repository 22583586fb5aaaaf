package sqlstore

import "testing"

func TestQRewritesPlaceholdersForPostgres(t *testing.T) {
	q := `SELECT a FROM t WHERE b = ? AND c IN ` + In(3)
	if got := (&DB{}).Q(q); got != q {
		t.Errorf("sqlite query changed: %s", got)
	}
	want := `SELECT a FROM t WHERE b = $1 AND c IN ($2,$3,$4)`
	if got := (&DB{Postgres: true}).Q(q); got != want {
		t.Errorf("postgres query %q, want %q", got, want)
	}
}
