// Package relinquish carries out relinquishing: it plans the due customers
// from the rules' ranges, journals every action before anything is sent,
// claims the work under a fencing epoch, dispatches batches to the
// connectors, and finalizes (changes the core record and closes the journal
// entry in one transaction). It is named for what it does, not for one of
// its triggers: scheduled sweeps, manual erasures, HIDDEN purges, ledger
// re-applications after a restore and residue re-erasures all go through
// it.
//
// The domain (types, rules, the Service, errors) stays in package
// retention, which defines what it needs of this package as an interface
// (retention.Relinquisher). This package imports retention, never the
// reverse; the wiring (app.go) builds both and connects them (Connect).
package relinquish
