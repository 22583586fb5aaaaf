package invoicedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
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
	plan := planSeed(customers, opt)
	if s.DB.Postgres {
		return seedPostgres(ctx, s, plan, opt.Fast)
	}
	return seedEmbedded(ctx, s, plan, opt.Fast)
}

// seedJob is one invoice PDF to render, with what is printed on it.
type seedJob struct {
	inv                  Invoice
	name, email, address string
}

// seedPlan is what Seed writes: contact rows, invoice index rows and the
// PDFs behind them.
type seedPlan struct {
	contacts, docs [][]any
	jobs           []seedJob
}

func planSeed(customers []SeedCustomer, opt SeedOptions) seedPlan {
	var p seedPlan
	for _, c := range customers {
		p.contacts = append(p.contacts, []any{c.ID, c.Name, c.Email, c.Address, 0})
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
			p.docs = append(p.docs, []any{inv.ID, inv.CustomerID, inv.Number, unixMilli(inv.IssuedAt), inv.AmountCents,
				inv.Currency, inv.Pages, c.Name, inv.File, 0})
			p.jobs = append(p.jobs, seedJob{inv, c.Name, c.Email, c.Address})
		}
	}
	return p
}

// seedPostgres writes PDFs and index rows in one transaction, PDFs with
// multi-row inserts: one statement (and commit) per PDF made the demo's
// PostgreSQL run wait on the server's fsync for every invoice.
func seedPostgres(ctx context.Context, s *Store, p seedPlan, fast bool) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	const perStatement = 500
	pdfs := make([][]any, 0, perStatement)
	for i, j := range p.jobs {
		pdf, err := seedPDF(j.inv, j.name, j.email, j.address, fast)
		if err != nil {
			return fmt.Errorf("render invoice pdf: %w", err)
		}
		pdfs = append(pdfs, []any{j.inv.File, pdf})
		if len(pdfs) == perStatement || i == len(p.jobs)-1 {
			if err := s.DB.InsertMany(ctx, tx, `INSERT INTO invoice_pdfs (file, data)`,
				`ON CONFLICT (file) DO UPDATE SET data = EXCLUDED.data`, pdfs); err != nil {
				return fmt.Errorf("write invoice pdf: %w", err)
			}
			pdfs = pdfs[:0]
		}
	}
	if err := insertIndex(ctx, s, tx, p.contacts, p.docs); err != nil {
		return err
	}
	return tx.Commit()
}

// seedEmbedded writes the PDFs first, in parallel, then the index, so
// that it only points at PDFs that exist. The 256 directories are made once
// here rather than checked for every file.
func seedEmbedded(ctx context.Context, s *Store, p seedPlan, fast bool) error {
	if err := makePDFDirs(s.dir); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, runtime.NumCPU())
	next := make(chan seedJob)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for j := range next {
				pdf, err := seedPDF(j.inv, j.name, j.email, j.address, fast)
				if err == nil {
					err = seedFile(s.Path(j.inv.File), pdf)
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
	for _, j := range p.jobs {
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
	return s.DB.InTx(ctx, func(tx *sql.Tx) error { return insertIndex(ctx, s, tx, p.contacts, p.docs) })
}

// insertIndex writes the contacts and the invoices' index rows.
func insertIndex(ctx context.Context, s *Store, tx *sql.Tx, contacts, docs [][]any) error {
	if err := s.DB.InsertMany(ctx, tx, `INSERT INTO invoice_contacts (customer_id, name, email, address, anonymised)`,
		`ON CONFLICT (customer_id) DO NOTHING`, contacts); err != nil {
		return err
	}
	if err := s.DB.InsertMany(ctx, tx, `INSERT INTO invoice_documents (id, customer_id, number, issued_at, amount_cents, currency, pages, customer_name, file, anonymised)`,
		`ON CONFLICT (id) DO NOTHING`, docs); err != nil {
		return err
	}
	return nil
}

func seedPDF(inv Invoice, name, email, address string, fast bool) ([]byte, error) {
	if !fast {
		return Render(inv, name, email, address)
	}
	t, err := TemplateFor(inv.Pages)
	if err != nil {
		return nil, err
	}
	return t.Fill(inv, name, email, address), nil
}

// makePDFDirs makes the directories FileName spreads PDFs over.
func makePDFDirs(dir string) error {
	for i := range 256 {
		if err := os.MkdirAll(filepath.Join(dir, "pdf", fmt.Sprintf("%02x", i)), 0o700); err != nil {
			return err
		}
	}
	return nil
}

// seedFile writes a PDF that seeding creates: a new file is written in
// place (one directory entry instead of a temporary file and a rename,
// which halves the demo's file-system work); one that exists already (a
// second seeding, or one that a crash cut short) is replaced atomically.
// A crash while writing a new file leaves it partial but unreferenced: the
// index rows are written only after every PDF of the call, and seeding
// again replaces it.
func seedFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return writeFile(path, data)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func rng(seed int64, key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(uint64(seed)^0x1f2e3d4c, h.Sum64()))
}

// SeedBatch writes the batch customers' demo invoices, for `lethe demo`.
// The PDFs are filled from pre-rendered templates (SeedOptions.Fast):
// rendering a hundred thousand one by one would dominate the demo's
// start-up.
func SeedBatch(ctx context.Context, s *Store, b sdk.SeedBatch) error {
	var invoices []SeedCustomer
	for _, cu := range b.Customers {
		if cu.Invoices > 0 {
			invoices = append(invoices, SeedCustomer{ID: cu.CustomerID, Name: cu.FullName(), Email: cu.Email,
				Address: cu.Address, Invoices: cu.Invoices})
		}
	}
	return Seed(ctx, s, invoices, SeedOptions{Seed: b.Seed, Now: b.Now, Fast: true})
}
