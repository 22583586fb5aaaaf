package retention

// AuditCustomerResurrected is the audit event of an erased customer a
// connector held data on again (its store restored from a backup).
const AuditCustomerResurrected = "customer.resurrected"

// Residue is what a residue audit of erased customers found: connector →
// the customers it held again; Run is the run that erased them again
// (empty when nothing was found).
type Residue struct {
	Checked int
	Found   map[string][]string
	Run     Run
}
