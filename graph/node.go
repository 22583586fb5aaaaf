package graph

import (
	"reflect"

	"github.com/lethe-privacy/lethe/graph/model"
)

// Global ids of the objects whose own key is a name or that are one of a
// kind. Customers, visits and runs keep the ids the domain gives them
// (cus_, vis_, run_), which are global already.
const (
	policyIDPrefix       = "pol_"
	connectorIDPrefix    = "con_"
	dataPolicyID         = "data_policy"
	fieldPreferencesID   = "field_preferences"
	customerIDPrefix     = "cus_"
	visitIDPrefix        = "vis_"
	retentionRunIDPrefix = "run_"
)

// nilOr turns a typed nil into an untyped one: a Node interface holding a
// nil *Customer would not be null to gqlgen.
func nilOr[T model.Node](v T, err error) (model.Node, error) {
	if err != nil || any(v) == nil || reflect.ValueOf(v).IsNil() {
		return nil, err
	}
	return v, nil
}
