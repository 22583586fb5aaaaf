// Package invoicedb is the invoice archive behind the invoicestore
// connector: the invoice PDFs and an SQL index of them, plus the contact each
// invoice is addressed to. Embedded (no dsn), the index is SQLite and the
// PDFs are files under the data directory; with a dsn, index and PDFs both
// live in that PostgreSQL database, so that the plugins of every Lethe
// replica see one archive and an erasure through any of them reaches it.
package invoicedb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

// pdfSchema holds the PDFs themselves on PostgreSQL.
const pdfSchema = `CREATE TABLE IF NOT EXISTS invoice_pdfs (
		file TEXT PRIMARY KEY,
		data BYTEA NOT NULL)`

// Store is an open invoice archive.
type Store struct {
	sqlstore.Base
	dir string // embedded: PDF files live under dir/pdf
}

// Open opens the archive: with a dsn, index and PDFs in that PostgreSQL
// database; otherwise the index in dataDir/invoices.db and the PDFs under
// dataDir/pdf.
func Open(ctx context.Context, dataDir, dsn string) (*Store, error) {
	if dataDir == "" && dsn == "" {
		return nil, fmt.Errorf("data_dir setting is required")
	}
	sch := schema
	if dsn != "" {
		sch = append(append([]string(nil), schema...), pdfSchema)
	}
	db, err := sqlstore.Open(ctx, dataDir, dsn, "invoices.db", sch)
	if err != nil {
		return nil, err
	}
	return &Store{Base: sqlstore.Base{DB: db}, dir: dataDir}, nil
}

// Ping checks the index is reachable and, embedded, the PDF directory
// exists.
func (s *Store) Ping(ctx context.Context) error {
	if !s.DB.Postgres {
		if _, err := os.Stat(s.dir); err != nil {
			return err
		}
	}
	return s.DB.PingContext(ctx)
}

// ReadPDF returns an invoice's PDF; an error wrapping fs.ErrNotExist when
// there is none.
func (s *Store) ReadPDF(ctx context.Context, file string) ([]byte, error) {
	return s.readPDF(ctx, s.DB.DB, file)
}

// querier is a *sql.DB or *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) readPDF(ctx context.Context, q querier, file string) ([]byte, error) {
	if !s.DB.Postgres {
		return os.ReadFile(s.Path(file))
	}
	var data []byte
	err := q.QueryRowContext(ctx, s.DB.Q("SELECT data FROM invoice_pdfs WHERE file = ?"), file).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("invoice pdf %s: %w", file, fs.ErrNotExist)
	}
	return data, err
}

// openPDF opens a PDF to be streamed: a file embedded; on PostgreSQL the
// stored bytes (an invoice is a few kilobytes).
func (s *Store) openPDF(ctx context.Context, q querier, file string) (io.ReadCloser, error) {
	if !s.DB.Postgres {
		return os.Open(s.Path(file))
	}
	data, err := s.readPDF(ctx, q, file)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// writePDF stores a PDF: on PostgreSQL in ex's transaction, so that the
// PDF and its index row change together; embedded, by replacing the file
// atomically.
func (s *Store) writePDF(ctx context.Context, ex sqlstore.Execer, file string, data []byte) error {
	if !s.DB.Postgres {
		return writeFile(s.Path(file), data)
	}
	_, err := ex.ExecContext(ctx, s.DB.Q("INSERT INTO invoice_pdfs (file, data) VALUES (?, ?) ON CONFLICT (file) DO UPDATE SET data = EXCLUDED.data"), file, data)
	return err
}

// removePDF deletes a PDF; one already gone is no error.
func (s *Store) removePDF(ctx context.Context, ex sqlstore.Execer, file string) error {
	if !s.DB.Postgres {
		if err := os.Remove(s.Path(file)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	_, err := ex.ExecContext(ctx, s.DB.Q("DELETE FROM invoice_pdfs WHERE file = ?"), file)
	return err
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
