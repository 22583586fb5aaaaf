// Package ledger is the erasure ledger: an append-only file, one JSON
// record a line, each carrying the hash of the one before it, where every
// erase and anonymise is recorded outside Lethe's database. A restore of
// the database from an older backup does not reach it, so Lethe can tell
// what it erased since and erase it again (DESIGN.md "Erased stays
// erased"). It holds no personal data: customer ids, times, categories,
// runs and who asked.
//
// Appends are durable when Append returns (the file is fdatasynced), and are
// serialised between processes sharing the directory with an exclusive
// flock, so several replicas may append to one ledger on shared storage.
package ledger

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// FileName is the ledger's file in its directory.
const FileName = "erasures.ledger"

// genesis is the "previous hash" of the first record.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Record is one line of the ledger.
type Record struct {
	Seq        int64     `json:"seq"`
	At         time.Time `json:"at"`
	Customer   string    `json:"customer"`
	Kind       string    `json:"kind"`
	Categories []string  `json:"categories"`
	Run        string    `json:"run,omitempty"`
	By         string    `json:"by,omitempty"`
	Prev       string    `json:"prev"`
	Hash       string    `json:"hash"`
}

// Domain returns the record as retention sees it.
func (r Record) Domain() retention.LedgerRecord {
	return retention.LedgerRecord{CustomerID: r.Customer, At: r.At, Kind: retention.ActionKind(r.Kind),
		Categories: r.Categories, Run: r.Run, By: r.By}
}

// Position is where the record ends the ledger.
func (r Record) Position() retention.LedgerPosition {
	return retention.LedgerPosition{Seq: r.Seq, Hash: r.Hash}
}

// digest is the hash of a record: SHA-256 over its fields (the hash field
// empty), which include the previous record's hash.
func (r Record) digest() string {
	r.Hash = ""
	b, _ := json.Marshal(r) // a struct of strings, times and slices: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ChainError says which line of the ledger does not verify, and why.
type ChainError struct {
	Path   string
	Line   int64
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("erasure ledger %s does not verify at line %d: %s (the ledger was edited, truncated or reordered; "+
		"restore it from its own copy, never start without it)", e.Path, e.Line, e.Reason)
}

// Ledger is an open ledger file. Safe for concurrent use.
type Ledger struct {
	path string
	mu   sync.Mutex
	f    *os.File
	// head is the last record this process knows of and size the file's
	// length after it; a larger file means another process appended.
	head retention.LedgerPosition
	size int64
}

var _ retention.ErasureLedger = (*Ledger)(nil)

// Open opens (creating it if needed) the ledger in dir and verifies its
// whole chain: a ledger that does not verify is a *ChainError. A last line
// cut short by a crash during an append (no newline, not JSON) was never
// acknowledged to anyone and is dropped.
func Open(dir string) (*Ledger, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("erasure ledger: %w", err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("erasure ledger: %w", err)
	}
	l := &Ledger{path: path, f: f}
	err = l.locked(func() error {
		head, size, err := verify(path, f, 0, retention.LedgerPosition{Hash: genesis}, 0)
		if err != nil {
			return err
		}
		l.head, l.size = head, size
		return syncDir(dir)
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// Path is the ledger file.
func (l *Ledger) Path() string { return l.path }

// Close closes the file.
func (l *Ledger) Close() error { return l.f.Close() }

// Head returns the last record's position, reading what other processes
// appended since.
func (l *Ledger) Head() (retention.LedgerPosition, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.locked(l.catchUp)
	return l.head, err
}

// Append writes the records after the last one, chained, and fsyncs the
// file (fdatasync) before it returns their last position.
func (l *Ledger) Append(ctx context.Context, records []retention.LedgerRecord) (retention.LedgerPosition, error) {
	if len(records) == 0 {
		return l.Head()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var head retention.LedgerPosition
	err := l.locked(func() error {
		if err := l.catchUp(); err != nil {
			return err
		}
		var buf bytes.Buffer
		pos := l.head
		for _, r := range records {
			rec := Record{Seq: pos.Seq + 1, At: r.At.UTC(), Customer: r.CustomerID, Kind: string(r.Kind), Categories: r.Categories,
				Run: r.Run, By: r.By, Prev: pos.Hash}
			if rec.Categories == nil {
				rec.Categories = []string{}
			}
			rec.Hash = rec.digest()
			line, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			buf.Write(line)
			buf.WriteByte('\n')
			pos = rec.Position()
		}
		if _, err := l.f.WriteAt(buf.Bytes(), l.size); err != nil {
			return err
		}
		// fdatasync: the data and the size that makes it readable, without
		// the inode's times. Measured under load on this project's machine,
		// fsync made a sweep 30-50% slower, fdatasync a few percent.
		if err := syscall.Fdatasync(int(l.f.Fd())); err != nil {
			return err
		}
		l.head, l.size, head = pos, l.size+int64(buf.Len()), pos
		return nil
	})
	if err != nil {
		return retention.LedgerPosition{}, fmt.Errorf("erasure ledger %s: append: %w", l.path, err)
	}
	return head, nil
}

// catchUp verifies and adopts what other processes appended (under the
// lock).
func (l *Ledger) catchUp() error {
	fi, err := l.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == l.size {
		return nil
	}
	if fi.Size() < l.size {
		return &ChainError{Path: l.path, Line: l.head.Seq, Reason: "the file is shorter than this process wrote it"}
	}
	head, size, err := verify(l.path, l.f, l.size, l.head, l.head.Seq)
	if err != nil {
		return err
	}
	l.head, l.size = head, size
	return nil
}

// locked runs fn holding the file's exclusive flock: one appender at a
// time, across processes.
func (l *Ledger) locked(fn func() error) error {
	if err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("erasure ledger %s: lock: %w", l.path, err)
	}
	defer syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing the file releases it too
	return fn()
}

// verify reads records from offset on, checking that each follows prev
// (sequence, previous hash, own hash); it returns the last position and the
// length of the verified part, truncating a torn last line.
func verify(path string, f *os.File, offset int64, prev retention.LedgerPosition, line int64) (retention.LedgerPosition, int64, error) {
	sr := io.NewSectionReader(f, offset, 1<<62)
	br := bufio.NewReaderSize(sr, 1<<16)
	size := offset
	for {
		b, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(b) == 0 {
				return prev, size, nil
			}
			if rec, reason := check(b, prev); reason == "" {
				// A whole record whose newline is missing: kept.
				if _, err := f.WriteAt([]byte("\n"), size+int64(len(b))); err != nil {
					return prev, size, err
				}
				return rec.Position(), size + int64(len(b)) + 1, f.Sync()
			}
			// A torn append: cut short, so never fsynced as a whole and
			// never acknowledged. Dropped.
			return prev, size, f.Truncate(size)
		}
		if err != nil {
			return prev, size, err
		}
		line++
		rec, reason := check(b, prev)
		if reason != "" {
			return prev, size, &ChainError{Path: path, Line: line, Reason: reason}
		}
		prev, size = rec.Position(), size+int64(len(b))
	}
}

// check verifies one line against the record before it.
func check(b []byte, prev retention.LedgerPosition) (Record, string) {
	var rec Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return rec, "not a ledger record: " + err.Error()
	}
	switch {
	case rec.Seq != prev.Seq+1:
		return rec, fmt.Sprintf("record number %d where %d was expected (a line was deleted, inserted or moved)", rec.Seq, prev.Seq+1)
	case rec.Prev != prev.Hash:
		return rec, "its previous-record hash does not match the line before it (a line was deleted, inserted or moved)"
	case rec.digest() != rec.Hash:
		return rec, "its hash does not match its content (the line was edited)"
	}
	return rec, ""
}

// Since returns the records after position seq, in order, verifying the
// whole file on the way.
func (l *Ledger) Since(seq int64) ([]Record, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Record
	err := l.locked(func() error {
		if err := l.catchUp(); err != nil {
			return err
		}
		return l.scan(func(r Record) {
			if r.Seq > seq {
				out = append(out, r)
			}
		})
	})
	return out, err
}

// At returns record seq (NOT found: ok false).
func (l *Ledger) At(seq int64) (Record, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var found Record
	ok := false
	err := l.locked(func() error {
		if err := l.catchUp(); err != nil {
			return err
		}
		return l.scan(func(r Record) {
			if r.Seq == seq {
				found, ok = r, true
			}
		})
	})
	return found, ok, err
}

// scan reads the verified part of the file, record by record.
func (l *Ledger) scan(fn func(Record)) error {
	br := bufio.NewReaderSize(io.NewSectionReader(l.f, 0, l.size), 1<<16)
	prev := retention.LedgerPosition{Hash: genesis}
	var line int64
	for {
		b, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		line++
		rec, reason := check(b, prev)
		if reason != "" {
			return &ChainError{Path: l.path, Line: line, Reason: reason}
		}
		fn(rec)
		prev = rec.Position()
	}
}

// syncDir makes the file's creation durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
