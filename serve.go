package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
)

// serve serves the GraphQL API, the console and the scheduled sweeps:
// `lethe serve`.
func serve(ctx context.Context, args []string) error {
	var devToken bool
	var pprofAddr string
	cfg, err := loadConfig("serve", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&devToken, "dev-admin-token", false, "development only (make run): create an admin token in the data directory and print it")
		fs.StringVar(&pprofAddr, "pprof", "", "serve Go profiles (net/http/pprof) at this address, e.g. 127.0.0.1:6060; off when empty")
	})
	if err != nil {
		return err
	}
	tuneServeGC()
	log := newLogger()
	if pprofAddr != "" {
		stopProfiles, err := serveProfiles(pprofAddr, log)
		if err != nil {
			return err
		}
		defer stopProfiles()
	}
	app, err := OpenApp(ctx, cfg, AppOptions{Log: log, Connectors: true})
	if err != nil {
		return err
	}
	defer app.Close()
	if len(app.Migrations) > 0 {
		log.Info("migrations applied", "migrations", app.Migrations)
	}
	// Before anything reads a customer: a restored database forgets no erasure.
	if err := app.CatchUpLedger(ctx); err != nil {
		return err
	}
	// kill -HUP reloads the connector plugins from the configuration file.
	app.reloadOnSIGHUP(ctx)
	if cfg.Sweep {
		if err := app.StartScheduler(); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	log.Info("lethe serving", "graphql", url+"/graphql", "console", url+"/console/", "playground", cfg.Playground,
		"database", app.Store.Dialect(), "connectors", app.Connectors.Names())
	banner := serveBanner(url, cfg.Playground)
	if devToken {
		token, err := ensureDevToken(ctx, app.Service, cfg.DataDir)
		if err != nil {
			return fmt.Errorf("development token: %w", err)
		}
		banner = devBanner(url, token, cfg.DataDir)
	}
	fmt.Fprint(os.Stderr, banner)
	return app.Serve(ctx, ln)
}

// serveBanner tells an operator where the console and the API are.
func serveBanner(url string, playground bool) string {
	if playground {
		return fmt.Sprintf("\n  Lethe is running. Admin console: %s/console/\n  Playground: %s/ (paste an API token into its Token field)\n  GraphQL endpoint: %s/graphql\n\n", url, url, url)
	}
	return fmt.Sprintf("\n  Lethe is running. Admin console: %s/console/\n  GraphQL endpoint: %s/graphql\n\n", url, url)
}
