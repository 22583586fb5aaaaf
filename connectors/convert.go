package connectors

import (
	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/retention"
)

// The one place the SDK's contract types meet retention's: the host hands
// retention values to the SDK's client and gives retention values back.

func subjectToSDK(s retention.Subject) sdk.Subject {
	return sdk.Subject{CustomerID: s.CustomerID, FirstName: s.FirstName, LastName: s.LastName,
		Email: s.Email, Phone: s.Phone}
}

func subjectsToSDK(ss []retention.Subject) []sdk.Subject {
	out := make([]sdk.Subject, len(ss))
	for i, s := range ss {
		out[i] = subjectToSDK(s)
	}
	return out
}

func actionsToSDK(as []retention.Action) []sdk.Action {
	out := make([]sdk.Action, len(as))
	for i, a := range as {
		out[i] = sdk.Action{ID: a.ID, Subject: subjectToSDK(a.Subject), Categories: a.Categories}
	}
	return out
}

func fieldActionsToSDK(as []retention.FieldAction) []sdk.FieldAction {
	out := make([]sdk.FieldAction, len(as))
	for i, a := range as {
		out[i] = sdk.FieldAction{ID: a.ID, Subject: subjectToSDK(a.Subject), Fields: a.Fields}
	}
	return out
}

func resultsFromSDK(rs []sdk.ActionResult) []retention.ActionResult {
	out := make([]retention.ActionResult, len(rs))
	for i, r := range rs {
		out[i] = retention.ActionResult{ActionID: r.ActionID, CustomerID: r.CustomerID,
			Outcome: retention.Outcome(r.Outcome), Reason: r.Reason, Records: r.Records}
	}
	return out
}

func exportsFromSDK(es []sdk.SubjectExport) []retention.SubjectExport {
	out := make([]retention.SubjectExport, len(es))
	for i, e := range es {
		out[i] = retention.SubjectExport{CustomerID: e.CustomerID, Data: e.Data}
		for _, d := range e.Documents {
			out[i].Documents = append(out[i].Documents, retention.Document{
				ID: d.ID, Name: d.Name, MediaType: d.MediaType, Size: d.Size, SHA256: d.SHA256})
		}
	}
	return out
}

func infoFromSDK(i sdk.Info) retention.ConnectorInfo {
	return retention.ConnectorInfo{Name: i.Name, Version: i.Version, Categories: i.Categories, Capabilities: i.Capabilities}
}

func visitsToSDK(vs []retention.VisitRecord) []sdk.VisitRecord {
	out := make([]sdk.VisitRecord, len(vs))
	for i, v := range vs {
		out[i] = sdk.VisitRecord{VisitID: v.VisitID, CustomerID: v.CustomerID, Branch: v.Branch, Service: v.Service,
			StartedAt: v.StartedAt, EndedAt: v.EndedAt, CustomFields: v.CustomFields}
	}
	return out
}
