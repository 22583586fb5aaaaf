// Command examplev2 is the newsletter example as it was before Lethe sent
// purged values (kept unchanged but for this comment): it drops the e-mail
// of a sign-up matched by that e-mail without giving the record another
// key, so a later purge or delete of the same customer no longer finds it.
// TestSuiteCatchesTheOldExamples expects the purge case to fail. Do not copy it.
//
// It was: an example Lethe connector written only
// against the connector SDK module: it keeps a newsletter's subscribers in a
// JSON file and can export, anonymise and delete them, and drop single
// fields. See README.md for the walk-through.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// Subscriber is one entry of the list. The file is the store: a mailing
// tool may edit it between calls, so every call reads it afresh.
type Subscriber struct {
	CustomerID   string    `json:"customerId,omitempty"`
	Email        string    `json:"email"`
	Name         string    `json:"name,omitempty"`
	Topics       []string  `json:"topics,omitempty"`
	SubscribedAt time.Time `json:"subscribedAt"`
	Anonymised   bool      `json:"anonymised,omitempty"`
}

// List is the file's content.
type List struct {
	Subscribers []Subscriber `json:"subscribers"`
}

type newsletter struct {
	mu   sync.Mutex // one call at a time changes the file
	path string
}

var (
	_ sdk.Connector       = (*newsletter)(nil)
	_ sdk.FieldAnonymiser = (*newsletter)(nil)
)

// version is stamped by the build (-ldflags "-X main.version=1.0.0");
// sdk.Version falls back to the module version or VCS revision.
var version = "dev"

func main() { sdk.Serve(&newsletter{}) }

// Configure takes the list's path from the "file" setting, defaulting to
// subscribers.json in the data directory Lethe gives every connector.
func (n *newsletter) Configure(_ context.Context, settings map[string]string) error {
	n.path = settings["file"]
	if n.path == "" {
		if settings["data_dir"] == "" {
			return errors.New("neither file nor data_dir is set")
		}
		n.path = filepath.Join(settings["data_dir"], "subscribers.json")
	}
	sdk.Logger().Info("newsletter list", "path", n.path)
	return nil
}

func (n *newsletter) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:         "newsletter",
		Version:      sdk.Version(version),
		Categories:   []string{sdk.CategoryContact, "newsletter"},
		Capabilities: []string{sdk.CapabilityExport, sdk.CapabilityAnonymise, sdk.CapabilityDelete, sdk.CapabilityAnonymiseFields},
	}, nil
}

func (n *newsletter) Health(context.Context) error {
	_, err := load(n.path)
	return err
}

// matches reports whether a subscriber belongs to the subject. A record
// that names a customer belongs to that customer alone, whatever its e-mail
// says: a family sharing one address are separate customers. A record with
// no customer id (signed up on the website) belongs to the subject when the
// e-mail matches and no record of another customer claims that address;
// otherwise it cannot be told whose it is, and is left alone.
func matches(list List, s Subscriber, sub sdk.Subject) bool {
	if s.CustomerID != "" {
		return s.CustomerID == sub.CustomerID
	}
	if s.Email == "" || sub.Email == "" || !strings.EqualFold(s.Email, sub.Email) {
		return false
	}
	for _, other := range list.Subscribers {
		if other.CustomerID != "" && other.CustomerID != sub.CustomerID && strings.EqualFold(other.Email, s.Email) {
			return false
		}
	}
	return true
}

func (n *newsletter) Export(_ context.Context, subjects []sdk.Subject) ([]sdk.SubjectExport, error) {
	list, err := load(n.path)
	if err != nil {
		return nil, err
	}
	var out []sdk.SubjectExport
	for _, sub := range subjects {
		var held []Subscriber
		for _, s := range list.Subscribers {
			if matches(list, s, sub) {
				held = append(held, s)
			}
		}
		if len(held) == 0 {
			continue // nothing held: leave the subject out
		}
		data, err := json.Marshal(map[string]any{"subscriptions": held})
		if err != nil {
			return nil, err
		}
		out = append(out, sdk.SubjectExport{CustomerID: sub.CustomerID, Data: data})
	}
	return out, nil
}

// Delete removes the subject's entries. Deleting again finds nothing and
// answers NOT_FOUND, which Lethe counts as done: that is what makes a
// repeated action id harmless here.
func (n *newsletter) Delete(_ context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	return n.change(actions, sdk.OutcomeDeleted, func(list *List, sub sdk.Subject) int {
		kept := list.Subscribers[:0]
		removed := 0
		for _, s := range list.Subscribers {
			if matches(*list, s, sub) {
				removed++
				continue
			}
			kept = append(kept, s)
		}
		list.Subscribers = kept
		return removed
	})
}

// Anonymise keeps the subscription (topics and date feed the newsletter's
// statistics) but drops the address and name, so it identifies no one.
func (n *newsletter) Anonymise(_ context.Context, actions []sdk.Action) ([]sdk.ActionResult, error) {
	return n.change(actions, sdk.OutcomeAnonymised, func(list *List, sub sdk.Subject) int {
		changed := 0
		for i, s := range list.Subscribers {
			if matches(*list, s, sub) {
				list.Subscribers[i].Email, list.Subscribers[i].Name, list.Subscribers[i].Anonymised = "", "", true
				changed++
			}
		}
		return changed
	})
}

// AnonymiseFields drops the fields the list holds: the e-mail address, and
// the name when a first or last name goes (the list keeps one full name).
// Phones and custom fields are not held here: not applicable, success.
func (n *newsletter) AnonymiseFields(_ context.Context, actions []sdk.FieldAction) ([]sdk.ActionResult, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	list, err := load(n.path)
	if err != nil {
		return nil, err
	}
	results := sdk.FieldResults(actions, sdk.OutcomeNotFound)
	for i, a := range actions {
		email := slices.Contains(a.Fields, sdk.FieldEmail)
		name := slices.Contains(a.Fields, sdk.FieldFirstName) || slices.Contains(a.Fields, sdk.FieldLastName)
		for j, s := range list.Subscribers {
			if !matches(list, s, a.Subject) {
				continue
			}
			changed := false
			if email && s.Email != "" {
				list.Subscribers[j].Email, changed = "", true
			}
			if name && s.Name != "" {
				list.Subscribers[j].Name, changed = "", true
			}
			if changed {
				results[i].Outcome = sdk.OutcomeAnonymised
				results[i].Records++
			}
		}
	}
	if err := save(n.path, list); err != nil {
		return nil, err
	}
	return results, nil
}

// change applies fn for every action and writes the file once per batch.
func (n *newsletter) change(actions []sdk.Action, done sdk.Outcome, fn func(*List, sdk.Subject) int) ([]sdk.ActionResult, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	list, err := load(n.path)
	if err != nil {
		return nil, err
	}
	results := sdk.Results(actions, sdk.OutcomeNotFound)
	for i, a := range actions {
		if !wants(a.Categories) {
			continue
		}
		if count := fn(&list, a.Subject); count > 0 {
			results[i].Outcome, results[i].Records = done, count
		}
	}
	if err := save(n.path, list); err != nil {
		return nil, err
	}
	return results, nil
}

// wants reports whether an action reaches this store's categories.
func wants(categories []string) bool {
	if len(categories) == 0 {
		return true
	}
	for _, c := range categories {
		if c == sdk.CategoryContact || c == "newsletter" {
			return true
		}
	}
	return false
}

// load reads the list; a missing file is an empty list.
func load(path string) (List, error) {
	var list List
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return list, nil
	}
	if err != nil {
		return list, err
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return list, fmt.Errorf("parse %s: %w", path, err)
	}
	return list, nil
}

// save writes the list atomically (temporary file, then rename), so a
// crash never leaves half a list.
func save(path string, list List) error {
	raw, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
