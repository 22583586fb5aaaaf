//go:build race

package store_test

// raceEnabled: the race detector slows the database-heavy randomized checks
// several times over; they run fewer customers under it (make test).
const raceEnabled = true
