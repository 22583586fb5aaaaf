package sdk

import (
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

func subjectsToPB(ss []Subject) []*pbv2.Subject {
	out := make([]*pbv2.Subject, len(ss))
	for i, s := range ss {
		out[i] = subjectToPB(s)
	}
	return out
}

func subjectsFromPB(ss []*pbv2.Subject) []Subject {
	out := make([]Subject, len(ss))
	for i, s := range ss {
		out[i] = subjectFromPB(s)
	}
	return out
}

func actionsToPB(as []Action) []*pbv2.Action {
	out := make([]*pbv2.Action, len(as))
	for i, a := range as {
		out[i] = &pbv2.Action{Id: a.ID, Subject: subjectToPB(a.Subject), Categories: a.Categories}
	}
	return out
}

func actionsFromPB(as []*pbv2.Action) []Action {
	out := make([]Action, len(as))
	for i, a := range as {
		out[i] = Action{ID: a.GetId(), Subject: subjectFromPB(a.GetSubject()), Categories: a.GetCategories()}
	}
	return out
}

func fieldActionsToPB(as []FieldAction) []*pbv2.FieldAction {
	out := make([]*pbv2.FieldAction, len(as))
	for i, a := range as {
		out[i] = &pbv2.FieldAction{Id: a.ID, Subject: subjectToPB(a.Subject), Fields: a.Fields}
	}
	return out
}

func fieldActionsFromPB(as []*pbv2.FieldAction) []FieldAction {
	out := make([]FieldAction, len(as))
	for i, a := range as {
		out[i] = FieldAction{ID: a.GetId(), Subject: subjectFromPB(a.GetSubject()), Fields: a.GetFields()}
	}
	return out
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
	out := make([]*pbv2.ActionResult, len(rs))
	for i, r := range rs {
		out[i] = &pbv2.ActionResult{
			ActionId:   r.ActionID,
			CustomerId: r.CustomerID,
			Outcome:    pbv2.Outcome(outcomeNumbers[r.Outcome]), // unknown outcomes travel as UNSPECIFIED and are refused by the host
			Reason:     r.Reason,
			Records:    int64(r.Records),
		}
	}
	return out
}

func resultsFromPB(rs []*pbv2.ActionResult) []ActionResult {
	out := make([]ActionResult, len(rs))
	for i, r := range rs {
		out[i] = result(r.GetActionId(), r.GetCustomerId(), outcomeFromNumber(int32(r.GetOutcome())), r.GetReason(), r.GetRecords())
	}
	return out
}

// result builds a received result; a plugin that set no outcome has not
// confirmed anything.
func result(actionID, customerID string, o Outcome, reason string, records int64) ActionResult {
	r := ActionResult{ActionID: actionID, CustomerID: customerID, Outcome: o, Reason: reason, Records: int(records)}
	if r.Outcome == "" {
		r.Outcome = OutcomeFailed
		if r.Reason == "" {
			r.Reason = "connector returned no outcome"
		}
	}
	return r
}

// actionKey is what results are matched on.
type actionKey struct{ id, customerID string }

func actionKeys(as []Action) []actionKey {
	out := make([]actionKey, len(as))
	for i, a := range as {
		out[i] = actionKey{a.ID, a.Subject.CustomerID}
	}
	return out
}

func fieldActionKeys(as []FieldAction) []actionKey {
	out := make([]actionKey, len(as))
	for i, a := range as {
		out[i] = actionKey{a.ID, a.Subject.CustomerID}
	}
	return out
}

// alignResults returns exactly one result per action, in the order of the
// actions, whatever the plugin sent: a missing result is a failure (the
// action will be retried with the same id), extra or duplicate results are
// dropped. The host can then trust results[i] answers actions[i].
func alignResults(actions []actionKey, got []ActionResult) []ActionResult {
	byID := make(map[string]ActionResult, len(got))
	for _, r := range got {
		if _, dup := byID[r.ActionID]; !dup {
			byID[r.ActionID] = r
		}
	}
	out := make([]ActionResult, len(actions))
	for i, a := range actions {
		r, ok := byID[a.id]
		if !ok {
			r = ActionResult{ActionID: a.id, Outcome: OutcomeFailed, Reason: "connector returned no result for this action"}
		}
		// The customer id is the host's, not the plugin's to change.
		r.CustomerID = a.customerID
		out[i] = r
	}
	return out
}

func documentsToPB(ds []Document) []*pbv2.Document {
	if len(ds) == 0 {
		return nil
	}
	out := make([]*pbv2.Document, len(ds))
	for i, d := range ds {
		out[i] = &pbv2.Document{Id: d.ID, Name: d.Name, MediaType: d.MediaType, Size: d.Size, Sha256: d.SHA256}
	}
	return out
}

func documentsFromPB(ds []*pbv2.Document) []Document {
	if len(ds) == 0 {
		return nil
	}
	out := make([]Document, len(ds))
	for i, d := range ds {
		out[i] = Document{ID: d.GetId(), Name: d.GetName(), MediaType: d.GetMediaType(), Size: d.GetSize(), SHA256: d.GetSha256()}
	}
	return out
}

func exportsToPB(es []SubjectExport) []*pbv2.SubjectExport {
	out := make([]*pbv2.SubjectExport, len(es))
	for i, e := range es {
		out[i] = &pbv2.SubjectExport{CustomerId: e.CustomerID, DataJson: e.Data, Documents: documentsToPB(e.Documents)}
	}
	return out
}

func exportFromPB(e *pbv2.SubjectExport) SubjectExport {
	return SubjectExport{CustomerID: e.GetCustomerId(), Data: e.GetDataJson(), Documents: documentsFromPB(e.GetDocuments())}
}

func visitToPB(v VisitRecord) *pbv2.Visit {
	return &pbv2.Visit{VisitId: v.VisitID, CustomerId: v.CustomerID, Branch: v.Branch, Service: v.Service,
		StartedAt: timestamppb.New(v.StartedAt), EndedAt: timestamppb.New(v.EndedAt), CustomFields: v.CustomFields}
}

func visitsToPB(vs []VisitRecord) []*pbv2.Visit {
	out := make([]*pbv2.Visit, len(vs))
	for i, v := range vs {
		out[i] = visitToPB(v)
	}
	return out
}

func visitsFromPB(vs []*pbv2.Visit) []VisitRecord {
	out := make([]VisitRecord, len(vs))
	for i, v := range vs {
		out[i] = VisitRecord{VisitID: v.GetVisitId(), CustomerID: v.GetCustomerId(), Branch: v.GetBranch(), Service: v.GetService(),
			StartedAt: v.GetStartedAt().AsTime(), EndedAt: v.GetEndedAt().AsTime(), CustomFields: v.GetCustomFields()}
	}
	return out
}
