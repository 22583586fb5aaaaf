package invoicedb

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"
)

// SeedCustomer asks Seed for a billing contact and Invoices invoices.
type SeedCustomer struct {
	ID, Name, Email, Address string
	Invoices                 int
}

// SeedOptions tune Seed.
type SeedOptions struct {
	Seed int64
	Now  time.Time
	// Fast fills pre-rendered templates instead of running fpdf per
	// invoice (see Template): ~100x cheaper, for demo volumes.
	Fast bool
}

// Seed writes deterministic contacts, invoice PDFs and index rows; seeding
// again rewrites the same files and adds no rows. PDFs are rendered and
// written by one worker per CPU while the index is filled in one
// transaction.
func Seed(ctx context.Context, s *Store, customers []SeedCustomer, opt SeedOptions) error {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	var contacts, docs [][]any
	type job struct {
		inv                  Invoice
		name, email, address string
	}
	var jobs []job
	for _, c := range customers {
		contacts = append(contacts, []any{c.ID, c.Name, c.Email, c.Address, 0})
		rng := rng(opt.Seed, c.ID)
		for i := range c.Invoices {
			inv := Invoice{
				ID:          fmt.Sprintf("%s-inv-%03d", c.ID, i),
				CustomerID:  c.ID,
				Number:      fmt.Sprintf("%d-%08d", opt.Now.Year(), rng.IntN(100000000)),
				IssuedAt:    opt.Now.AddDate(0, -(i + 1), 0).Truncate(24 * time.Hour).UTC(),
				AmountCents: 500 + rng.Int64N(20000),
				Currency:    "EUR",
				Pages:       1 + rng.IntN(2),
			}
			inv.File = FileName(inv.ID)
			docs = append(docs, []any{inv.ID, inv.CustomerID, inv.Number, unixMilli(inv.IssuedAt), inv.AmountCents,
				inv.Currency, inv.Pages, c.Name, inv.File, 0})
			jobs = append(jobs, job{inv, c.Name, c.Email, c.Address})
		}
	}

	// PDFs first, in parallel; the index only points at PDFs that exist.
	var wg sync.WaitGroup
	errs := make(chan error, runtime.NumCPU())
	next := make(chan job)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for j := range next {
				var pdf []byte
				var err error
				if opt.Fast {
					var t *Template
					if t, err = TemplateFor(j.inv.Pages); err == nil {
						pdf = t.Fill(j.inv, j.name, j.email, j.address)
					}
				} else {
					pdf, err = Render(j.inv, j.name, j.email, j.address)
				}
				if err == nil {
					err = s.writePDF(ctx, s.db.DB, j.inv.File, pdf)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for _, j := range jobs {
		if len(errs) > 0 || ctx.Err() != nil {
			break
		}
		next <- j
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return fmt.Errorf("write invoice pdf: %w", err)
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.db.InsertMany(ctx, tx, `INSERT INTO invoice_contacts (customer_id, name, email, address, anonymised)`,
		`ON CONFLICT (customer_id) DO NOTHING`, contacts); err != nil {
		return err
	}
	if err := s.db.InsertMany(ctx, tx, `INSERT INTO invoice_documents (id, customer_id, number, issued_at, amount_cents, currency, pages, customer_name, file, anonymised)`,
		`ON CONFLICT (id) DO NOTHING`, docs); err != nil {
		return err
	}
	return tx.Commit()
}

func rng(seed int64, key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(uint64(seed)^0x1f2e3d4c, h.Sum64()))
}
