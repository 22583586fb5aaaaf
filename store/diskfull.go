package store

import (
	"context"
	"errors"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/lethe-privacy/lethe/retention"
)

// diskFull reports a write refused for want of space: SQLITE_FULL (which
// SQLite also answers when max_page_count is reached), PostgreSQL's
// disk_full (53100), or ENOSPC from the file system.
func diskFull(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "53100"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) && liteErr.Code()&0xff == sqlite3.SQLITE_FULL {
		return true
	}
	return errors.Is(err, syscall.ENOSPC)
}

// storageFull is the error a write gets when the storage is full: a
// clear condition with its own code, not an INTERNAL error. The
// transaction was rolled back, so nothing was changed.
func storageFull() *retention.Error {
	return retention.Errorf(retention.CodeUnavailable,
		"storage is full: Lethe could not write and changed nothing; free space on the database's disk, then try again")
}

// isStorageFull reports an error that is, or became, storageFull's.
func isStorageFull(err error) bool {
	var re *retention.Error
	return diskFull(err) || (errors.As(err, &re) && re.Code == retention.CodeUnavailable)
}

// noteWrite records the outcome of a write transaction for StorageFull
// and turns a disk-full failure into storageFull's error.
func (s *Store) noteWrite(err error) error {
	if isStorageFull(err) {
		s.fullAt.Store(time.Now().UnixNano())
		return storageFull()
	}
	if err == nil && s.fullAt.Load() != 0 {
		s.fullAt.Store(0)
	}
	return err
}

// fullMemory is how long a write refused for want of space keeps the
// storage reported full when no write has succeeded since: without
// writes (a replica taken out of its load balancer by /readyz), nothing
// else would tell that space was freed.
const fullMemory = 30 * time.Second

// minFreeBytes is the free space below which SQLite's file system counts
// as full: a write transaction needs room for its WAL frames.
const minFreeBytes = 1 << 20

// StorageFull is nil, or storageFull's error when the storage is full:
// the SQLite database's file system has less than 1 MiB free, or a write
// failed for want of space in the last 30 s and none has succeeded since
// (PostgreSQL's disk is only known by its writes). For /readyz.
func (s *Store) StorageFull(context.Context) error {
	if s.sqlitePath != "" {
		if free, ok := freeBytes(filepath.Dir(s.sqlitePath)); ok && free < minFreeBytes {
			return storageFull()
		}
	}
	if at := s.fullAt.Load(); at != 0 && time.Since(time.Unix(0, at)) < fullMemory {
		return storageFull()
	}
	return nil
}
