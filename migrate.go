package main

import (
	"context"
	"fmt"
)

// migrateCmd applies pending database migrations: `lethe migrate`.
func migrateCmd(ctx context.Context, args []string) error {
	cfg, err := loadConfig("migrate", args)
	if err != nil {
		return err
	}
	app, err := OpenApp(ctx, cfg, AppOptions{})
	if err != nil {
		return err
	}
	defer app.Close()
	if len(app.Migrations) == 0 {
		fmt.Println("database is up to date")
	}
	for _, name := range app.Migrations {
		fmt.Println("applied", name)
	}
	return app.catchUpOnMigrate(ctx)
}
