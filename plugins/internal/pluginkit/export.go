package pluginkit

import (
	"context"
	"encoding/json"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// Export answers an export batch from a store that reads many customers at
// once: fetch reads the subjects' data by customer id, present turns one
// customer's data into its JSON document, or reports that there is none.
// Subjects with nothing held are left out, as the protocol asks.
func Export[T any](ctx context.Context, subjects []sdk.Subject,
	fetch func(ctx context.Context, customerIDs []string) (map[string]T, error),
	present func(T) (any, bool)) ([]sdk.SubjectExport, error) {
	ids := make([]string, len(subjects))
	for i, s := range subjects {
		ids[i] = s.CustomerID
	}
	byCustomer, err := fetch(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []sdk.SubjectExport
	for _, s := range subjects {
		doc, ok := present(byCustomer[s.CustomerID])
		if !ok {
			continue
		}
		data, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, sdk.SubjectExport{CustomerID: s.CustomerID, Data: data})
	}
	return out, nil
}
