package invoicedb

import (
	"context"
	"database/sql"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/internal/sqlstore"
)

// Embedded, files are changed before the index transaction commits: if
// Lethe or the plugin dies in between, the retry (same action ids, not yet
// journaled) finds the rows again and redoes the idempotent file work. The
// other order could leave a PDF with a name on disk and no row pointing to
// it. On PostgreSQL the PDFs change in the index transaction itself.

// Delete removes the invoices (PDF and index row) and the billing contact
// of each action's customer, as far as the action's categories reach.
func (s *Store) Delete(ctx context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	return s.DB.Apply(ctx, journal, "delete", actions, func(ctx context.Context, tx *sql.Tx, todo []sdk.Action) ([]sdk.ActionResult, error) {
		counts := map[string]int{}
		invIDs, contactIDs := split(todo)
		if len(invIDs) > 0 {
			invs, err := s.invoices(ctx, tx, invIDs)
			if err != nil {
				return nil, err
			}
			for _, inv := range invs {
				if err := s.removePDF(ctx, tx, inv.File); err != nil {
					return nil, err
				}
				counts[inv.CustomerID]++
			}
			if err := s.exec(ctx, tx, `DELETE FROM invoice_documents WHERE customer_id IN `, invIDs); err != nil {
				return nil, err
			}
		}
		if len(contactIDs) > 0 {
			if err := s.countContacts(ctx, tx, contactIDs, counts); err != nil {
				return nil, err
			}
			if err := s.exec(ctx, tx, `DELETE FROM invoice_contacts WHERE customer_id IN `, contactIDs); err != nil {
				return nil, err
			}
		}
		return results(todo, counts, sdk.OutcomeDeleted), nil
	})
}

// Anonymise replaces each invoice PDF of the customer with a blank PDF of
// as many pages and clears the name, e-mail and address from the index.
// Numbers, dates and amounts stay: they identify no one and bookkeeping
// needs them.
func (s *Store) Anonymise(ctx context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	return s.DB.Apply(ctx, journal, "anonymise", actions, func(ctx context.Context, tx *sql.Tx, todo []sdk.Action) ([]sdk.ActionResult, error) {
		counts := map[string]int{}
		invIDs, contactIDs := split(todo)
		if err := s.blankInvoices(ctx, tx, invIDs, counts); err != nil {
			return nil, err
		}
		if len(contactIDs) > 0 {
			if err := s.countContacts(ctx, tx, contactIDs, counts); err != nil {
				return nil, err
			}
			if err := s.exec(ctx, tx, `UPDATE invoice_contacts SET name = '', email = '', address = '', anonymised = 1 WHERE customer_id IN `, contactIDs); err != nil {
				return nil, err
			}
		}
		return results(todo, counts, sdk.OutcomeAnonymised), nil
	})
}

// blank overwrites an invoice's PDF with a blank one. The page count comes
// from the file itself when it can be read, so the blank copy matches what
// was archived even if the index is off.
func (s *Store) blank(ctx context.Context, tx *sql.Tx, inv Invoice) error {
	pages := inv.Pages
	if old, err := s.readPDF(ctx, tx, inv.File); err == nil {
		if n := PageCount(old); n > 0 {
			pages = n
		}
	}
	b, err := Blank(pages)
	if err != nil {
		return err
	}
	return s.writePDF(ctx, tx, inv.File, b)
}

// blankInvoices replaces every invoice PDF of the customers with a blank
// one of as many pages and clears the name from their index rows, counting
// the invoices per customer.
func (s *Store) blankInvoices(ctx context.Context, tx *sql.Tx, customerIDs []string, counts map[string]int) error {
	if len(customerIDs) == 0 {
		return nil
	}
	invs, err := s.invoices(ctx, tx, customerIDs)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if err := s.blank(ctx, tx, inv); err != nil {
			return err
		}
		counts[inv.CustomerID]++
	}
	return s.exec(ctx, tx, `UPDATE invoice_documents SET customer_name = '', anonymised = 1 WHERE customer_id IN `, customerIDs)
}

func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, ids []string) error {
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		if _, err := tx.ExecContext(ctx, s.DB.Q(query+sqlstore.In(len(chunk))), sqlstore.Strings(chunk)...); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) countContacts(ctx context.Context, tx *sql.Tx, ids []string, counts map[string]int) error {
	n, err := s.DB.Counts(ctx, tx, `SELECT customer_id, count(*) FROM invoice_contacts WHERE customer_id IN `, ` GROUP BY customer_id`, ids)
	if err != nil {
		return err
	}
	for id, c := range n {
		counts[id] += c
	}
	return nil
}

// split lists the customers whose invoices, and whose contacts, the
// actions reach.
func split(actions []sdk.Action) (invoices, contacts []string) {
	for _, a := range actions {
		id := a.Subject.CustomerID
		if id == "" {
			continue
		}
		if sqlstore.Wants(a.Categories, sdk.CategoryInvoice) {
			invoices = append(invoices, id)
		}
		if sqlstore.Wants(a.Categories, sdk.CategoryContact) {
			contacts = append(contacts, id)
		}
	}
	return invoices, contacts
}

func results(actions []sdk.Action, counts map[string]int, done sdk.Outcome) []sdk.ActionResult {
	out := make([]sdk.ActionResult, len(actions))
	for i, a := range actions {
		r := sdk.ActionResult{ActionID: a.ID, CustomerID: a.Subject.CustomerID, Outcome: sdk.OutcomeNotFound}
		if n := counts[a.Subject.CustomerID]; n > 0 {
			r.Outcome, r.Records = done, n
		}
		out[i] = r
	}
	return out
}
