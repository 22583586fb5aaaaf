// Package invoicedb is the invoice archive behind the invoicestore
// connector: PDF files under the data directory and an SQL index of them
// (SQLite, or PostgreSQL through a dsn), plus the contact each invoice is
// addressed to.
package invoicedb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lethe-privacy/lethe/plugins/internal/sqlstore"
)

const journal = "invoice_actions"

var schema = []string{
	`CREATE TABLE IF NOT EXISTS invoice_contacts (
		customer_id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		email TEXT NOT NULL,
		address TEXT NOT NULL,
		anonymised INTEGER NOT NULL DEFAULT 0)`,
	`CREATE TABLE IF NOT EXISTS invoice_documents (
		id TEXT PRIMARY KEY,
		customer_id TEXT NOT NULL,
		number TEXT NOT NULL,
		issued_at BIGINT NOT NULL,
		amount_cents BIGINT NOT NULL,
		currency TEXT NOT NULL,
		pages INTEGER NOT NULL,
		customer_name TEXT NOT NULL,
		file TEXT NOT NULL,
		anonymised INTEGER NOT NULL DEFAULT 0)`,
	`CREATE INDEX IF NOT EXISTS invoice_documents_customer ON invoice_documents (customer_id, issued_at)`,
	sqlstore.JournalSchema(journal),
}

// Contact is the billing contact invoices are addressed to.
type Contact struct {
	CustomerID string `json:"customerId"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	Address    string `json:"address"`
	Anonymised bool   `json:"anonymised"`
}

// Store is an open invoice archive.
type Store struct {
	db  *sqlstore.DB
	dir string // PDF files live under dir/pdf
}

// Open opens the archive in dataDir (index in invoices.db unless dsn names
// a PostgreSQL database; PDFs always under dataDir/pdf).
func Open(ctx context.Context, dataDir, dsn string) (*Store, error) {
	if dataDir == "" {
		return nil, fmt.Errorf("data_dir setting is required")
	}
	db, err := sqlstore.Open(ctx, dataDir, dsn, "invoices.db", schema)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, dir: dataDir}, nil
}

// Close closes the index.
func (s *Store) Close() error { return s.db.Close() }

// Checkpoint clears the index's WAL after deletes (see sqlstore.DB.Checkpoint).
func (s *Store) Checkpoint(ctx context.Context) error { return s.db.Checkpoint(ctx) }

// Ping checks the index is reachable and the PDF directory exists.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := os.Stat(s.dir); err != nil {
		return err
	}
	return s.db.PingContext(ctx)
}

// FileName is where an invoice's PDF lives, relative to the data
// directory. It is derived from the invoice id through a hash, so any id is
// a safe file name and files spread over 256 subdirectories.
func FileName(invoiceID string) string {
	sum := sha256.Sum256([]byte(invoiceID))
	h := hex.EncodeToString(sum[:12])
	return filepath.Join("pdf", h[:2], h+".pdf")
}

// Path is the absolute path of a file named by FileName.
func (s *Store) Path(file string) string { return filepath.Join(s.dir, file) }

// writeFile replaces a PDF atomically: a crash leaves the old file or the
// new one, never half of either.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func unixMilli(t time.Time) int64 { return t.UnixMilli() }
