//go:build lethe_liar

package main

// A planted faulty build, for the canary test only (go build -tags
// lethe_liar): it acknowledges every delete and deletes nothing, as a
// connector that silently stopped deleting would. Never part of a release
// build: without the tag this file is not compiled.

import (
	"context"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// Delete shadows the store's Delete: everything "deleted", nothing gone.
func (c *connector) Delete(_ context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	out := make([]sdk.ActionResult, len(actions))
	for i, a := range actions {
		out[i] = sdk.ActionResult{ActionID: a.ID, CustomerID: a.Subject.CustomerID, Outcome: sdk.OutcomeDeleted, Records: 1}
	}
	return out, nil
}
