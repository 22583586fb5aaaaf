package connectors

import (
	"fmt"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/retention"
)

// A plugin is another program, possibly buggy or hostile: what it answers
// is checked at the border before any of it can count as done. Results
// are checked by the SDK's client (sdk.ContractError: one per action sent,
// for its customer, a known outcome, a short reason); exports here.

// maxSubjectExportBytes bounds what one subject's export may weigh
// (documents apart, which are streamed): 64 MiB is years of call records;
// the transport's own bound is 256 MiB per answer.
const maxSubjectExportBytes = 64 << 20

// brokeContract is the error of a call whose answer breaks the contract:
// the whole call fails, so that its caller (a sweep) records every action
// of it as failed and retries it, and nothing of the answer is kept.
func brokeContract(name, problem string) error {
	return retention.Errorf(retention.CodeConnectorUnavailable,
		"connector %q broke the contract: %s; no result of the call was used", name, problem)
}

// checkExports: only subjects asked about, each once, each within
// maxSubjectExportBytes.
func checkExports(name string, subjects []retention.Subject, exports []sdk.SubjectExport) error {
	asked := make(map[string]bool, len(subjects))
	for _, s := range subjects {
		asked[s.CustomerID] = true
	}
	seen := make(map[string]bool, len(exports))
	for _, e := range exports {
		switch {
		case !asked[e.CustomerID]:
			return brokeContract(name, fmt.Sprintf("it exported customer %q, which it was not asked about", truncate(e.CustomerID)))
		case seen[e.CustomerID]:
			return brokeContract(name, fmt.Sprintf("it exported customer %q twice", truncate(e.CustomerID)))
		case len(e.Data) > maxSubjectExportBytes:
			return brokeContract(name, fmt.Sprintf("its export of customer %q is %d bytes, more than %d", e.CustomerID, len(e.Data), maxSubjectExportBytes))
		}
		seen[e.CustomerID] = true
	}
	return nil
}

// truncate keeps a plugin's strings short in error messages.
func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
