package invoicedb

import (
	"context"
	"database/sql"
	"time"

	"github.com/lethe-privacy/lethe/plugins/internal/sqlstore"
)

// Holding is everything the archive holds on one customer.
type Holding struct {
	Contact  *Contact  `json:"contact,omitempty"`
	Invoices []Invoice `json:"invoices,omitempty"`
}

// ByCustomers returns each customer's contact and invoices (oldest first).
func (s *Store) ByCustomers(ctx context.Context, customerIDs []string) (map[string]*Holding, error) {
	out := map[string]*Holding{}
	get := func(id string) *Holding {
		if out[id] == nil {
			out[id] = &Holding{}
		}
		return out[id]
	}
	for start := 0; start < len(customerIDs); start += 500 {
		chunk := customerIDs[start:min(start+500, len(customerIDs))]
		args := sqlstore.Strings(chunk)
		rows, err := s.DB.QueryContext(ctx, s.DB.Q(`SELECT customer_id, name, email, address, anonymised
			FROM invoice_contacts WHERE customer_id IN `+sqlstore.In(len(chunk))), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c Contact
			var anon int
			if err := rows.Scan(&c.CustomerID, &c.Name, &c.Email, &c.Address, &anon); err != nil {
				rows.Close()
				return nil, err
			}
			c.Anonymised = anon != 0
			get(c.CustomerID).Contact = &c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		invs, err := s.invoices(ctx, s.DB, chunk)
		if err != nil {
			return nil, err
		}
		for _, inv := range invs {
			h := get(inv.CustomerID)
			h.Invoices = append(h.Invoices, inv)
		}
	}
	return out, nil
}

// sqlQuerier is a *sql.DB or *sql.Tx.
type sqlQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) invoices(ctx context.Context, q sqlQuerier, customerIDs []string) ([]Invoice, error) {
	rows, err := q.QueryContext(ctx, s.DB.Q(`SELECT id, customer_id, number, issued_at, amount_cents, currency, pages, customer_name, file, anonymised
		FROM invoice_documents WHERE customer_id IN `+sqlstore.In(len(customerIDs))+` ORDER BY customer_id, issued_at, id`),
		sqlstore.Strings(customerIDs)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Invoice
	for rows.Next() {
		var inv Invoice
		var issued int64
		var anon int
		if err := rows.Scan(&inv.ID, &inv.CustomerID, &inv.Number, &issued, &inv.AmountCents, &inv.Currency,
			&inv.Pages, &inv.CustomerName, &inv.File, &anon); err != nil {
			return nil, err
		}
		inv.IssuedAt = time.UnixMilli(issued).UTC()
		inv.Anonymised = anon != 0
		out = append(out, inv)
	}
	return out, rows.Err()
}
