package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/lethe-privacy/lethe/store"
)

// backupCmd writes a consistent copy of Lethe's SQLite database while it
// serves: `lethe backup [--out FILE]`. It prints the erasure-ledger position
// the copy holds: a restore of it re-applies every later ledger record.
func backupCmd(ctx context.Context, args []string) error {
	var out string
	cfg, err := loadConfig("backup", args, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "file to write (default <data-dir>/backups/lethe-<UTC time>.db; never overwritten)")
	})
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(cfg.DataDir, "backups", "lethe-"+time.Now().UTC().Format("20060102T150405Z")+".db")
	}
	app, err := OpenApp(ctx, cfg, AppOptions{})
	if err != nil {
		return err
	}
	defer app.Close()
	pos, err := app.Store.BackupTo(ctx, out)
	if err != nil {
		return err
	}
	fmt.Printf("backup written: %s\nerasure ledger position it holds: %d\n"+
		"Back up the connectors' stores as well; never back up the ledger directory (%s) with the database: it must outlive them.\n",
		out, pos.Seq, ledgerDir(cfg))
	return nil
}

// restoreCmd puts a backup made by `lethe backup` back: `lethe restore FILE`.
// Every Lethe process on the data directory must be stopped. The next start
// (serve, migrate or sweep) re-applies every erasure the ledger holds after
// the backup's position before it serves anything.
func restoreCmd(ctx context.Context, args []string) error {
	var fs *flag.FlagSet
	cfg, err := loadConfig("restore", args, func(f *flag.FlagSet) { fs = f })
	if err != nil {
		return err
	}
	file := ""
	if rest := fs.Args(); len(rest) == 1 {
		file = rest[0]
	}
	if file == "" {
		return errors.New("usage: lethe restore [flags] FILE (a file written by lethe backup)")
	}
	if store.IsPostgresURL(cfg.Database) {
		return errors.New("lethe restore puts back a SQLite backup; restore PostgreSQL with pg_restore (see docs/operations-backup.md), then start lethe")
	}
	l, err := openLedger(cfg)
	if err != nil {
		return err
	}
	head, err := l.Head()
	l.Close()
	if err != nil {
		return err
	}
	pos, err := store.RestoreSQLite(ctx, cfg.DataDir, file)
	if err != nil {
		return err
	}
	fmt.Printf("restored %s into %s (erasure ledger position %d; the ledger is at %d)\n", file, cfg.DataDir, pos.Seq, head.Seq)
	if head.Seq > pos.Seq {
		fmt.Printf("the next start (lethe serve, migrate or sweep) relinquishes again what the %d later ledger records name, before it serves anything\n", head.Seq-pos.Seq)
	}
	return nil
}
