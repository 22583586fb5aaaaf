package sdk

import (
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	pbv2 "github.com/lethe-privacy/lethe/connectors/sdk/internal/pb/v2"
)

// The conversions between the SDK's Go types and protocol 2's messages;
// both sides of the wire use them so they cannot drift apart. Outcome
// numbers are the same in protocols 1 and 2.

func subjectToPB(s Subject) *pbv2.Subject {
	return &pbv2.Subject{CustomerId: s.CustomerID, FirstName: s.FirstName, LastName: s.LastName,
		Email: s.Email, Phone: s.Phone}
}

func subjectFromPB(s *pbv2.Subject) Subject {
	return Subject{CustomerID: s.GetCustomerId(), FirstName: s.GetFirstName(), LastName: s.GetLastName(),
		Email: s.GetEmail(), Phone: s.GetPhone()}
}

// mapped converts each element of in with f: one conversion a message
// type, and every list of them through here.
func mapped[A, B any](in []A, f func(A) B) []B {
	out := make([]B, len(in))
	for i, a := range in {
		out[i] = f(a)
	}
	return out
}

func subjectsToPB(ss []Subject) []*pbv2.Subject { return mapped(ss, subjectToPB) }

func subjectsFromPB(ss []*pbv2.Subject) []Subject { return mapped(ss, subjectFromPB) }

func actionsToPB(as []Action) []*pbv2.Action {
	return mapped(as, func(a Action) *pbv2.Action {
		return &pbv2.Action{Id: a.ID, Subject: subjectToPB(a.Subject), Categories: a.Categories}
	})
}

func actionsFromPB(as []*pbv2.Action) []Action {
	return mapped(as, func(a *pbv2.Action) Action {
		return Action{ID: a.GetId(), Subject: subjectFromPB(a.GetSubject()), Categories: a.GetCategories()}
	})
}

func fieldActionsToPB(as []FieldAction) []*pbv2.FieldAction {
	return mapped(as, func(a FieldAction) *pbv2.FieldAction {
		return &pbv2.FieldAction{Id: a.ID, Subject: subjectToPB(a.Subject), Fields: a.Fields}
	})
}

func fieldActionsFromPB(as []*pbv2.FieldAction) []FieldAction {
	return mapped(as, func(a *pbv2.FieldAction) FieldAction {
		return FieldAction{ID: a.GetId(), Subject: subjectFromPB(a.GetSubject()), Fields: a.GetFields()}
	})
}

var outcomeNumbers = map[Outcome]int32{
	OutcomeDeleted:    int32(pbv2.Outcome_OUTCOME_DELETED),
	OutcomeAnonymised: int32(pbv2.Outcome_OUTCOME_ANONYMISED),
	OutcomeNotFound:   int32(pbv2.Outcome_OUTCOME_NOT_FOUND),
	OutcomeFailed:     int32(pbv2.Outcome_OUTCOME_FAILED),
}

func outcomeFromNumber(n int32) Outcome {
	for o, m := range outcomeNumbers {
		if m == n {
			return o
		}
	}
	return ""
}

func resultsToPB(rs []ActionResult) []*pbv2.ActionResult {
	return mapped(rs, func(r ActionResult) *pbv2.ActionResult {
		return &pbv2.ActionResult{
			ActionId:   r.ActionID,
			CustomerId: r.CustomerID,
			Outcome:    pbv2.Outcome(outcomeNumbers[r.Outcome]), // unknown outcomes travel as UNSPECIFIED and are refused by the host
			Reason:     r.Reason,
			Records:    int64(r.Records),
		}
	})
}

func resultsFromPB(rs []*pbv2.ActionResult) []ActionResult {
	return mapped(rs, func(r *pbv2.ActionResult) ActionResult {
		return result(r.GetActionId(), r.GetCustomerId(), outcomeFromNumber(int32(r.GetOutcome())), r.GetReason(), r.GetRecords())
	})
}

// result builds a received result. An outcome the plugin left unset (or
// sent as a number this SDK does not know) stays empty: alignResults
// refuses it, it never counts as a confirmation.
func result(actionID, customerID string, o Outcome, reason string, records int64) ActionResult {
	return ActionResult{ActionID: actionID, CustomerID: customerID, Outcome: o, Reason: reason, Records: int(records)}
}

// actionKey is what results are matched on.
type actionKey struct{ id, customerID string }

func actionKeys(as []Action) []actionKey {
	return mapped(as, func(a Action) actionKey { return actionKey{a.ID, a.Subject.CustomerID} })
}

func fieldActionKeys(as []FieldAction) []actionKey {
	return mapped(as, func(a FieldAction) actionKey { return actionKey{a.ID, a.Subject.CustomerID} })
}

// ContractError is what the host's client returns when a plugin's answer
// breaks the contract: a result for an action that was not sent, two for
// one action, one naming another customer, none for an action, no known
// outcome, an oversized reason. Nothing of such an answer can be trusted,
// so none of it is returned: the whole call fails, and its caller retries
// it with the same action ids.
type ContractError struct{ Problem string }

func (e *ContractError) Error() string { return "the connector broke the contract: " + e.Problem }

// MaxReasonBytes bounds a result's failure reason: a sentence.
const MaxReasonBytes = 4 << 10

func contractErrorf(format string, args ...any) *ContractError {
	return &ContractError{Problem: fmt.Sprintf(format, args...)}
}

// clip keeps a plugin's strings short in an error message.
func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "…"
}

// alignResults returns exactly one result per action, in the order of the
// actions, or a ContractError when the plugin's answer is not exactly
// that. The host can then trust results[i] answers actions[i].
func alignResults(actions []actionKey, got []ActionResult) ([]ActionResult, error) {
	index := make(map[string]int, len(actions))
	for i, a := range actions {
		index[a.id] = i
	}
	out := make([]ActionResult, len(actions))
	seen := make([]bool, len(actions))
	for _, r := range got {
		i, ok := index[r.ActionID]
		switch {
		case !ok:
			return nil, contractErrorf("it answered action %q, which was not sent", clip(r.ActionID))
		case seen[i]:
			return nil, contractErrorf("it answered action %q twice", clip(r.ActionID))
		case r.CustomerID != "" && r.CustomerID != actions[i].customerID:
			return nil, contractErrorf("its result for action %q names customer %q, the action's is %q", clip(r.ActionID), clip(r.CustomerID), actions[i].customerID)
		case r.Outcome == "":
			return nil, contractErrorf("action %q has no outcome the contract knows (DELETED, ANONYMISED, NOT_FOUND, FAILED)", clip(r.ActionID))
		case len(r.Reason) > MaxReasonBytes:
			return nil, contractErrorf("the reason of action %q is %d bytes long, more than %d", clip(r.ActionID), len(r.Reason), MaxReasonBytes)
		case r.Records < 0:
			return nil, contractErrorf("action %q affected %d records", clip(r.ActionID), r.Records)
		}
		seen[i] = true
		r.CustomerID = actions[i].customerID
		out[i] = r
	}
	if len(got) != len(actions) {
		return nil, contractErrorf("it answered %d of the %d actions sent", len(got), len(actions))
	}
	return out, nil
}

func documentsToPB(ds []Document) []*pbv2.Document {
	if len(ds) == 0 {
		return nil
	}
	return mapped(ds, func(d Document) *pbv2.Document {
		return &pbv2.Document{Id: d.ID, Name: d.Name, MediaType: d.MediaType, Size: d.Size, Sha256: d.SHA256}
	})
}

func documentsFromPB(ds []*pbv2.Document) []Document {
	if len(ds) == 0 {
		return nil
	}
	return mapped(ds, func(d *pbv2.Document) Document {
		return Document{ID: d.GetId(), Name: d.GetName(), MediaType: d.GetMediaType(), Size: d.GetSize(), SHA256: d.GetSha256()}
	})
}

func exportsToPB(es []SubjectExport) []*pbv2.SubjectExport {
	return mapped(es, func(e SubjectExport) *pbv2.SubjectExport {
		return &pbv2.SubjectExport{CustomerId: e.CustomerID, DataJson: e.Data, Documents: documentsToPB(e.Documents)}
	})
}

func exportFromPB(e *pbv2.SubjectExport) SubjectExport {
	return SubjectExport{CustomerID: e.GetCustomerId(), Data: e.GetDataJson(), Documents: documentsFromPB(e.GetDocuments())}
}

func visitToPB(v VisitRecord) *pbv2.Visit {
	return &pbv2.Visit{VisitId: v.VisitID, CustomerId: v.CustomerID, Branch: v.Branch, Service: v.Service,
		StartedAt: timestamppb.New(v.StartedAt), EndedAt: timestamppb.New(v.EndedAt), CustomFields: v.CustomFields}
}

func visitsToPB(vs []VisitRecord) []*pbv2.Visit { return mapped(vs, visitToPB) }

func visitsFromPB(vs []*pbv2.Visit) []VisitRecord {
	return mapped(vs, func(v *pbv2.Visit) VisitRecord {
		return VisitRecord{VisitID: v.GetVisitId(), CustomerID: v.GetCustomerId(), Branch: v.GetBranch(), Service: v.GetService(),
			StartedAt: v.GetStartedAt().AsTime(), EndedAt: v.GetEndedAt().AsTime(), CustomFields: v.GetCustomFields()}
	})
}

// inBatches calls call on consecutive batches of at most size items, so
// that no single message grows without bound, and joins what it returns.
func inBatches[T, R any](items []T, size int, call func(batch []T) ([]R, error)) ([]R, error) {
	var out []R
	for start := 0; start < len(items); start += size {
		got, err := call(items[start:min(start+size, len(items))])
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// infoMessage is a Describe answer of any protocol version.
type infoMessage interface {
	GetName() string
	GetVersion() string
	GetCategories() []string
	GetCapabilities() []string
}

// infoFrom reads a Describe answer of any protocol version.
func infoFrom[M infoMessage](resp M, err error) (Info, error) {
	if err != nil {
		return Info{}, err
	}
	return Info{Name: resp.GetName(), Version: resp.GetVersion(), Categories: resp.GetCategories(), Capabilities: resp.GetCapabilities()}, nil
}
