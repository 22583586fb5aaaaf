package invoicedb

import (
	"context"
	"database/sql"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/plugins/internal/sqlstore"
)

// AnonymiseFields drops the named fields from the archive. The invoice PDFs
// print the customer's name and e-mail address, so when either goes each
// PDF is replaced by a blank one of as many pages, as Anonymise does; the
// index and the billing contact lose the field. Phones and custom fields
// are not held here: not applicable (NOT_FOUND).
func (s *Store) AnonymiseFields(ctx context.Context, actions []sdk.FieldAction) ([]sdk.ActionResult, error) {
	return s.DB.ApplyFields(ctx, journal, actions, func(ctx context.Context, tx *sql.Tx, todo []sdk.FieldAction) ([]sdk.ActionResult, error) {
		counts := map[string]int{}
		var pdfs, names, emails []string
		for _, a := range todo {
			id := a.Subject.CustomerID
			if id == "" {
				continue
			}
			name := sqlstore.HasField(a, sdk.FieldFirstName, sdk.FieldLastName)
			email := sqlstore.HasField(a, sdk.FieldEmail)
			if name || email {
				pdfs = append(pdfs, id)
			}
			if name {
				names = append(names, id)
			}
			if email {
				emails = append(emails, id)
			}
		}
		if len(pdfs) > 0 {
			if err := s.blankInvoices(ctx, tx, pdfs, counts); err != nil {
				return nil, err
			}
			if err := s.countContacts(ctx, tx, pdfs, counts); err != nil {
				return nil, err
			}
		}
		if err := s.exec(ctx, tx, `UPDATE invoice_contacts SET name = '' WHERE customer_id IN `, names); err != nil {
			return nil, err
		}
		if err := s.exec(ctx, tx, `UPDATE invoice_contacts SET email = '' WHERE customer_id IN `, emails); err != nil {
			return nil, err
		}
		out := sdk.FieldResults(todo, sdk.OutcomeNotFound)
		for i, a := range todo {
			if n := counts[a.Subject.CustomerID]; n > 0 {
				out[i].Outcome, out[i].Records = sdk.OutcomeAnonymised, n
			}
		}
		return out, nil
	})
}
