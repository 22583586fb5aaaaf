package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

const tokenUsage = `usage: lethe token <create|list|revoke> [flags]

  create --name N --role viewer|operator|admin   print a new API token once (only its hash is stored)
  list                                            name, role, created, last used, revoked: never a token
  revoke --name N                                 refuse the token from now on

Each takes --data-dir DIR or --database postgres://… like serve.`

// tokenCmd manages API tokens. It runs on the database directly (with the
// operating-system user as the audit log's actor), so that the first admin
// token can be made before any exists.
func tokenCmd(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, tokenUsage)
		return errors.New("token: no subcommand given")
	}
	var name, role string
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "token name, recorded as the actor in the audit log")
		fs.StringVar(&role, "role", "", "viewer, operator or admin")
	}
	sub := args[0]
	switch sub {
	case "create", "list", "revoke":
	case "help", "-h", "--help":
		fmt.Fprintln(out, tokenUsage)
		return nil
	default:
		fmt.Fprintln(os.Stderr, tokenUsage)
		return fmt.Errorf("token: unknown subcommand %q", sub)
	}
	cfg, err := loadConfig("token "+sub, args[1:], flags)
	if err != nil {
		return err
	}
	app, err := OpenApp(ctx, cfg, AppOptions{})
	if err != nil {
		return err
	}
	defer app.Close()
	svc := app.Service
	ctx = retention.WithActor(ctx, retention.Actor{Name: "cli:" + currentUser(), Role: retention.RoleAdmin})

	switch sub {
	case "create":
		if name == "" || role == "" {
			return errors.New("token create: --name and --role are required")
		}
		secret, t, err := svc.CreateToken(ctx, name, retention.Role(strings.ToLower(role)))
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "created %s token %q; it is shown only now, store it safely:\n", t.Role, t.Name)
		fmt.Fprintln(out, secret)
		return nil
	case "revoke":
		if name == "" {
			return errors.New("token revoke: --name is required")
		}
		t, err := svc.RevokeToken(ctx, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "revoked token %q (%s)\n", t.Name, t.Role)
		return nil
	}
	tokens, err := svc.Tokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tLAST USED\tREVOKED")
	for _, t := range tokens {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), timeOrDash(t.LastUsedAt), timeOrDash(t.RevokedAt))
	}
	return tw.Flush()
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

// devTokenName names the development admin token of `make run`.
const devTokenName = "dev-admin"

// devTokenFile keeps the development admin token beside the data it opens.
// For development only: a real deployment creates its tokens with `lethe
// token create` and keeps them in a secret store, never on disk beside the
// database.
func devTokenFile(dataDir string) string { return filepath.Join(dataDir, "dev-admin.token") }

// ensureDevToken returns the development admin token: the one in the data
// directory while it still works, else a new one (revoking a dev-admin
// token whose secret was lost), written with mode 0600. Only hashes are in
// the database, so the file is the only place the secret lives.
func ensureDevToken(ctx context.Context, svc *retention.Service, dataDir string) (string, error) {
	path := devTokenFile(dataDir)
	if b, err := os.ReadFile(path); err == nil {
		secret := strings.TrimSpace(string(b))
		if _, err := svc.Authenticate(ctx, secret); err == nil {
			return secret, nil
		}
	}
	ctx = retention.WithActor(ctx, retention.Actor{Name: "cli:" + currentUser(), Role: retention.RoleAdmin})
	if _, err := svc.RevokeToken(ctx, devTokenName); err != nil && retention.ErrorCode(err) != retention.CodeNotFound {
		return "", err
	}
	secret, _, err := svc.CreateToken(ctx, devTokenName, retention.RoleAdmin)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	// WriteFile keeps the mode of an existing file: make sure.
	return secret, os.Chmod(path, 0o600)
}

// devBanner tells a developer where to go and how to authenticate there.
func devBanner(url, token, dataDir string) string {
	return fmt.Sprintf(`
  Lethe is running.
    Admin console:     %[1]s/console/   (sign in with the token below)
    Playground:        %[1]s/
    GraphQL endpoint:  %[1]s/graphql
    Admin token:       %[2]s
                       (development only: kept in %[3]s)

  Every request needs the token: paste it into the console's sign-in or
  the playground's Token field (kept for the browser tab only).
  With curl: -H 'Authorization: Bearer %[2]s'

`, url, token, devTokenFile(dataDir))
}
