// Command misbehave is a connector that breaks the contract on purpose, in
// the way its "mode" setting names, so that hosts (Lethe's tests) can check
// that a plugin answering garbage fails its batch with a clear error and
// never has an action counted as done:
//
//	wrong-count      answers one result fewer than the actions sent, and
//	                 repeats the first (none for a single action)
//	unknown-outcome  answers an outcome the contract does not know
//	other-subject    answers each action with the next action's customer,
//	                 and exports a customer it was not asked about
//	huge             answers a 1 MiB reason and exports 65 MiB per subject
//	endless          declares a 10-byte document and streams it for ever
//	good             keeps the contract (nothing held: NOT_FOUND)
//
// It holds no data. Do not copy it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

func main() { sdk.Serve(&misbehave{}) }

type misbehave struct{ mode string }

var (
	_ sdk.Connector       = (*misbehave)(nil)
	_ sdk.FieldAnonymiser = (*misbehave)(nil)
	_ sdk.DocumentReader  = (*misbehave)(nil)
)

func (m *misbehave) Configure(_ context.Context, settings map[string]string) error {
	m.mode = settings["mode"]
	switch m.mode {
	case "wrong-count", "unknown-outcome", "other-subject", "huge", "endless", "good":
		return nil
	}
	return fmt.Errorf("unknown mode %q", m.mode)
}

func (m *misbehave) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "misbehave", Version: "0.0.1", Categories: []string{"contact"},
		Capabilities: []string{sdk.CapabilityAnonymiseFields, sdk.CapabilityDocuments}}, nil
}

func (m *misbehave) Health(context.Context) error { return nil }

func (m *misbehave) Export(_ context.Context, subjects []sdk.Subject) ([]sdk.SubjectExport, error) {
	var out []sdk.SubjectExport
	for _, s := range subjects {
		switch m.mode {
		case "other-subject":
			out = append(out, sdk.SubjectExport{CustomerID: s.CustomerID + "-neighbour", Data: json.RawMessage(`{"held": true}`)})
		case "huge":
			out = append(out, sdk.SubjectExport{CustomerID: s.CustomerID, Data: json.RawMessage(`"` + strings.Repeat("x", 65<<20) + `"`)})
		case "endless":
			out = append(out, sdk.SubjectExport{CustomerID: s.CustomerID, Data: json.RawMessage(`{}`),
				Documents: []sdk.Document{{ID: "doc-1", Name: "endless.txt", MediaType: "text/plain", Size: 10,
					SHA256: "1d4f5a7d1b3e3a1d9f8c8c4d6e1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a"}}})
		}
	}
	return out, nil
}

func (m *misbehave) Anonymise(_ context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	return m.results(sdk.Results(actions, sdk.OutcomeNotFound)), nil
}

func (m *misbehave) Delete(_ context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	return m.results(sdk.Results(actions, sdk.OutcomeNotFound)), nil
}

func (m *misbehave) AnonymiseFields(_ context.Context, actions []sdk.FieldAction) ([]sdk.ActionResult, error) {
	return m.results(sdk.FieldResults(actions, sdk.OutcomeNotFound)), nil
}

// results spoils correct results the way the mode says.
func (m *misbehave) results(rs []sdk.ActionResult) []sdk.ActionResult {
	switch m.mode {
	case "wrong-count":
		if len(rs) == 1 {
			return nil
		}
		if len(rs) > 0 {
			rs = append(rs[:len(rs)-1], rs[0])
		}
	case "unknown-outcome":
		for i := range rs {
			rs[i].Outcome = "PURGED"
		}
	case "other-subject":
		customers := make([]string, len(rs))
		for i, r := range rs {
			customers[i] = r.CustomerID
		}
		for i := range rs {
			rs[i].CustomerID = customers[(i+1)%len(rs)] + "-neighbour"
		}
	case "huge":
		for i := range rs {
			rs[i].Reason = strings.Repeat("r", 1<<20)
		}
	}
	return rs
}

func (m *misbehave) ReadDocument(context.Context, string, string) (io.ReadCloser, error) {
	return io.NopCloser(endless{}), nil
}

// endless reads as an unending run of "x".
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}
