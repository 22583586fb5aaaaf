package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/auditchain"
	"github.com/lethe-privacy/lethe/store"
)

// auditKeyFile is where the audit log's signing key lives: audit_key_file
// in the configuration (or LETHE_AUDIT_KEY_FILE), else audit-signing.key in
// the data directory, created on first use. Replicas on one PostgreSQL
// database must be given the same file, or their checkpoints are signed
// by keys the others do not trust.
func auditKeyFile(cfg Config) string {
	if v := os.Getenv("LETHE_AUDIT_KEY_FILE"); v != "" {
		return v
	}
	if cfg.AuditKeyFile != "" {
		return cfg.AuditKeyFile
	}
	return filepath.Join(cfg.DataDir, "audit-signing.key")
}

// attachAuditKey loads (or creates) the signing key and hands it to the
// store, which signs the audit log's checkpoints with it.
func attachAuditKey(s *store.Store, cfg Config) (ed25519.PublicKey, error) {
	key, _, err := auditchain.LoadOrCreateKey(auditKeyFile(cfg))
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	signer := auditchain.NewSigner(key)
	s.SetAuditSigner(signer, 0)
	return signer.Public(), nil
}

// pubkeyList collects --pubkey flags: a key ("ed25519 …") or a file
// holding one.
type pubkeyList []ed25519.PublicKey

func (p *pubkeyList) String() string { return fmt.Sprint(len(*p), " keys") }

func (p *pubkeyList) Set(v string) error {
	text := v
	if !strings.HasPrefix(strings.TrimSpace(v), "ed25519 ") {
		b, err := os.ReadFile(v)
		if err != nil {
			return fmt.Errorf("pubkey %q is neither a key (ed25519 …) nor a readable file: %w", v, err)
		}
		text = string(b)
	}
	k, err := auditchain.ParsePublicKey(text)
	if err != nil {
		return err
	}
	*p = append(*p, k)
	return nil
}

func auditCmd(ctx context.Context, args []string, out io.Writer) error {
	const usage = "usage: lethe audit verify [--pubkey KEY|FILE]... [--only-pubkey] | pubkey | checkpoint"
	if len(args) == 0 {
		return errors.New(usage)
	}
	var pubkeys pubkeyList
	onlyGiven := false
	cfg, err := loadConfig("audit "+args[0], args[1:], func(fs *flag.FlagSet) {
		if args[0] == "verify" {
			fs.Var(&pubkeys, "pubkey", "also trust this public key (ed25519 … as `lethe audit pubkey` prints it, or a file holding it); repeatable")
			fs.BoolVar(&onlyGiven, "only-pubkey", false, "trust only the keys given with --pubkey, not this installation's own")
		}
	})
	if err != nil {
		return err
	}
	app, err := OpenApp(ctx, cfg, AppOptions{NoMigrate: args[0] == "pubkey"})
	if err != nil {
		return err
	}
	defer app.Close()
	switch args[0] {
	case "pubkey":
		fmt.Fprintln(out, auditchain.FormatPublicKey(app.AuditKey))
		fmt.Fprintln(out, "# key id", auditchain.KeyID(app.AuditKey), "file", auditKeyFile(cfg))
		return nil
	case "checkpoint":
		pos, err := app.Store.AuditCheckpoint(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "checkpoint signs event %d\n", pos)
		return nil
	case "verify":
		if !onlyGiven {
			pubkeys = append(pubkeys, app.AuditKey)
		}
		if len(pubkeys) == 0 {
			return errors.New("--only-pubkey needs at least one --pubkey")
		}
		return auditVerify(ctx, app.Store, pubkeys, out)
	}
	return fmt.Errorf("unknown audit command %q (%s)", args[0], usage)
}

// auditVerify prints the verification and fails when the log is broken.
func auditVerify(ctx context.Context, s *store.Store, keys []ed25519.PublicKey, out io.Writer) error {
	start := time.Now()
	res, err := s.VerifyAudit(ctx, keys...)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, res.Summary())
	for _, c := range res.Checkpoints {
		state := "ok"
		if !c.Valid {
			state = "NOT VERIFIED"
		}
		fmt.Fprintf(out, "checkpoint event %d at %s key %s hash %s %s\n", c.Pos, time.UnixMicro(c.At).UTC().Format(time.RFC3339), c.KeyID, c.Hash.Hex(), state)
	}
	fmt.Fprintf(out, "took %s\n", time.Since(start).Round(time.Millisecond))
	if !res.OK() {
		return errors.New("the audit log does not verify")
	}
	return nil
}
