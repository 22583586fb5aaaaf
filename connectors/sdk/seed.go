package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Seeder is an optional capability for demonstrations: a connector that
// can fill its own store with made-up data for given customers, so that
// `lethe demo` shows data in every store without Lethe knowing how any of
// them is laid out. It is deliberately not part of the gRPC contract: a
// running Lethe never asks a connector to write made-up data into a real
// store; only the command `<plugin> seed`, which `lethe demo` runs, does.
type Seeder interface {
	// Seed adds the batch's data. The same batch, seed and time give the
	// same data, and seeding a batch again adds nothing.
	Seed(ctx context.Context, batch SeedBatch) error
}

// SeedBatch is demo data for some customers and visits.
type SeedBatch struct {
	// Seed and Now make made-up details (amounts, dates) deterministic.
	Seed int64
	Now  time.Time
	// Customers of the batch and how much of each kind of data each has;
	// a store keeps what belongs to it and ignores the rest.
	Customers []SeedCustomer
	// Visits that ended, as a connector recording visits receives them.
	Visits []VisitRecord
}

// SeedCustomer is one demo customer.
type SeedCustomer struct {
	Subject
	// Address is the customer's postal address, for documents.
	Address string
	// CallRecords and Invoices say how many of each the customer gets.
	CallRecords int
	Invoices    int
}

// SeedCommand is the argument that makes a plugin binary seed instead of
// serving: `lethe-<name> seed`.
const SeedCommand = "seed"

// ExitNoSeeder is the exit status of `<plugin> seed` when the connector
// does not implement Seeder: nothing was written, and Lethe's demo goes on
// without data for it.
const ExitNoSeeder = 3

// seedMain is the seed command: `<plugin> seed`, started by Serve. It
// returns the process's exit status. Standard input carries JSON values:
// first the settings Configure takes (a JSON object of strings; kept off
// the command line, where other users could read a dsn's password), then
// any number of SeedBatch values.
func seedMain(impl Connector, in io.Reader, errOut io.Writer) int {
	seeder, ok := impl.(Seeder)
	if !ok {
		fmt.Fprintln(errOut, "this connector has no demo data to seed")
		return ExitNoSeeder
	}
	if err := runSeed(context.Background(), impl, seeder, in); err != nil {
		fmt.Fprintln(errOut, "seed:", err)
		return 1
	}
	return 0
}

func runSeed(ctx context.Context, impl Connector, seeder Seeder, in io.Reader) error {
	dec := json.NewDecoder(in)
	var settings map[string]string
	if err := dec.Decode(&settings); err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	if err := impl.Configure(ctx, settings); err != nil {
		return fmt.Errorf("configure: %w", err)
	}
	for {
		var batch SeedBatch
		err := dec.Decode(&batch)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read batch: %w", err)
		}
		if err := seeder.Seed(ctx, batch); err != nil {
			return err
		}
	}
}

// FullName is the subject's first and last name joined by a space, or the
// one that is set.
func (s Subject) FullName() string {
	switch {
	case s.FirstName == "":
		return s.LastName
	case s.LastName == "":
		return s.FirstName
	}
	return s.FirstName + " " + s.LastName
}
