package connectors

import (
	"encoding/json"

	"google.golang.org/protobuf/types/known/timestamppb"

	connectorpb "github.com/lethe-privacy/lethe/connectors/proto"
	"github.com/lethe-privacy/lethe/retention"
)

// The conversions below are the only place protobuf types meet retention
// types; both sides of the wire use them so they cannot drift apart.

func subjectToPB(s retention.Subject) *connectorpb.Subject {
	return &connectorpb.Subject{
		CustomerId:   s.CustomerID,
		FirstName:    s.FirstName,
		LastName:     s.LastName,
		Email:        s.Email,
		Phone:        s.Phone,
		ExternalRefs: s.ExternalRefs,
	}
}

func subjectFromPB(s *connectorpb.Subject) retention.Subject {
	return retention.Subject{
		CustomerID:   s.GetCustomerId(),
		FirstName:    s.GetFirstName(),
		LastName:     s.GetLastName(),
		Email:        s.GetEmail(),
		Phone:        s.GetPhone(),
		ExternalRefs: s.GetExternalRefs(),
	}
}

func subjectsToPB(ss []retention.Subject) []*connectorpb.Subject {
	out := make([]*connectorpb.Subject, len(ss))
	for i, s := range ss {
		out[i] = subjectToPB(s)
	}
	return out
}

func subjectsFromPB(ss []*connectorpb.Subject) []retention.Subject {
	out := make([]retention.Subject, len(ss))
	for i, s := range ss {
		out[i] = subjectFromPB(s)
	}
	return out
}

func actionsToPB(as []retention.Action) []*connectorpb.Action {
	out := make([]*connectorpb.Action, len(as))
	for i, a := range as {
		out[i] = &connectorpb.Action{Id: a.ID, Subject: subjectToPB(a.Subject), Categories: a.Categories}
	}
	return out
}

func actionsFromPB(as []*connectorpb.Action) []retention.Action {
	out := make([]retention.Action, len(as))
	for i, a := range as {
		out[i] = retention.Action{ID: a.GetId(), Subject: subjectFromPB(a.GetSubject()), Categories: a.GetCategories()}
	}
	return out
}

var outcomeToPB = map[retention.Outcome]connectorpb.Outcome{
	retention.OutcomeDeleted:    connectorpb.Outcome_OUTCOME_DELETED,
	retention.OutcomeAnonymised: connectorpb.Outcome_OUTCOME_ANONYMISED,
	retention.OutcomeNotFound:   connectorpb.Outcome_OUTCOME_NOT_FOUND,
	retention.OutcomeFailed:     connectorpb.Outcome_OUTCOME_FAILED,
}

var outcomeFromPB = map[connectorpb.Outcome]retention.Outcome{
	connectorpb.Outcome_OUTCOME_DELETED:    retention.OutcomeDeleted,
	connectorpb.Outcome_OUTCOME_ANONYMISED: retention.OutcomeAnonymised,
	connectorpb.Outcome_OUTCOME_NOT_FOUND:  retention.OutcomeNotFound,
	connectorpb.Outcome_OUTCOME_FAILED:     retention.OutcomeFailed,
}

func resultsToPB(rs []retention.ActionResult) []*connectorpb.ActionResult {
	out := make([]*connectorpb.ActionResult, len(rs))
	for i, r := range rs {
		out[i] = &connectorpb.ActionResult{
			ActionId:   r.ActionID,
			CustomerId: r.CustomerID,
			Outcome:    outcomeToPB[r.Outcome], // unknown outcomes travel as UNSPECIFIED and are refused by the host
			Reason:     r.Reason,
			Records:    int64(r.Records),
		}
	}
	return out
}

func resultFromPB(r *connectorpb.ActionResult) retention.ActionResult {
	out := retention.ActionResult{
		ActionID:   r.GetActionId(),
		CustomerID: r.GetCustomerId(),
		Outcome:    outcomeFromPB[r.GetOutcome()],
		Reason:     r.GetReason(),
		Records:    int(r.GetRecords()),
	}
	if out.Outcome == "" {
		// A plugin that forgot to set an outcome has not confirmed anything.
		out.Outcome = retention.OutcomeFailed
		if out.Reason == "" {
			out.Reason = "connector returned no outcome"
		}
	}
	return out
}

func exportsToPB(es []retention.SubjectExport) []*connectorpb.SubjectExport {
	out := make([]*connectorpb.SubjectExport, len(es))
	for i, e := range es {
		out[i] = &connectorpb.SubjectExport{CustomerId: e.CustomerID, DataJson: e.Data}
	}
	return out
}

func exportFromPB(e *connectorpb.SubjectExport) retention.SubjectExport {
	return retention.SubjectExport{CustomerID: e.GetCustomerId(), Data: json.RawMessage(e.GetDataJson())}
}

func visitsToPB(vs []retention.VisitRecord) []*connectorpb.Visit {
	out := make([]*connectorpb.Visit, len(vs))
	for i, v := range vs {
		out[i] = &connectorpb.Visit{
			VisitId:      v.VisitID,
			CustomerId:   v.CustomerID,
			Branch:       v.Branch,
			Service:      v.Service,
			StartedAt:    timestamppb.New(v.StartedAt),
			EndedAt:      timestamppb.New(v.EndedAt),
			CustomFields: v.CustomFields,
		}
	}
	return out
}

func visitsFromPB(vs []*connectorpb.Visit) []retention.VisitRecord {
	out := make([]retention.VisitRecord, len(vs))
	for i, v := range vs {
		out[i] = retention.VisitRecord{
			VisitID:      v.GetVisitId(),
			CustomerID:   v.GetCustomerId(),
			Branch:       v.GetBranch(),
			Service:      v.GetService(),
			StartedAt:    v.GetStartedAt().AsTime(),
			EndedAt:      v.GetEndedAt().AsTime(),
			CustomFields: v.GetCustomFields(),
		}
	}
	return out
}
