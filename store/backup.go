package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lethe-privacy/lethe/retention"
)

// BackupTo writes a consistent copy of the SQLite database to path while
// it serves (VACUUM INTO: one read transaction, writers go on) and returns
// the erasure-ledger position the copy holds. PostgreSQL is backed up with
// pg_dump (docs/operations-backup.md).
func (s *Store) BackupTo(ctx context.Context, path string) (retention.LedgerPosition, error) {
	if s.dialect != SQLite {
		return retention.LedgerPosition{}, fmt.Errorf("lethe backup copies the SQLite database; back up PostgreSQL with pg_dump (see docs/operations-backup.md)")
	}
	if _, err := os.Stat(path); err == nil {
		return retention.LedgerPosition{}, fmt.Errorf("%s exists: a backup never overwrites a file", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return retention.LedgerPosition{}, err
	}
	if _, err := s.reads.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return retention.LedgerPosition{}, fmt.Errorf("backup: %w", err)
	}
	return BackupPosition(ctx, path)
}

// BackupPosition opens a SQLite backup and returns the erasure-ledger
// position it holds; an error when it is not a Lethe database.
func BackupPosition(ctx context.Context, path string) (retention.LedgerPosition, error) {
	if _, err := os.Stat(path); err != nil {
		return retention.LedgerPosition{}, err
	}
	b, err := Open(ctx, Config{Database: "sqlite:" + path})
	if err != nil {
		return retention.LedgerPosition{}, err
	}
	defer b.Close()
	var ok string
	if err := b.db.NewRaw("PRAGMA quick_check").Scan(ctx, &ok); err != nil || ok != "ok" {
		return retention.LedgerPosition{}, fmt.Errorf("%s is not a sound SQLite database: %v %s", path, err, ok)
	}
	pos, err := b.LedgerPosition(ctx)
	if err != nil {
		return pos, fmt.Errorf("%s is not a Lethe database of this version (no erasure-ledger position): %w", path, err)
	}
	return pos, nil
}

// RestoreSQLite puts a backup made by BackupTo in place of the database in
// dataDir, atomically (a copy beside it, then a rename). Every Lethe process
// on the data directory must be stopped. It returns the position the backup
// holds.
func RestoreSQLite(ctx context.Context, dataDir, backup string) (retention.LedgerPosition, error) {
	pos, err := BackupPosition(ctx, backup)
	if err != nil {
		return pos, err
	}
	target := filepath.Join(dataDir, "lethe.db")
	tmp := target + ".restoring"
	if err := copyFile(backup, tmp); err != nil {
		os.Remove(tmp)
		return pos, err
	}
	// The old database's write-ahead log belongs to it, not to the copy.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(target + suffix); err != nil && !os.IsNotExist(err) {
			return pos, err
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return pos, err
	}
	d, err := os.Open(dataDir)
	if err != nil {
		return pos, err
	}
	defer d.Close()
	return pos, d.Sync()
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
