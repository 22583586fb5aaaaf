package retention

// DataPolicy governs what happens to CANCELLED and DELETED customers
// ("relinquish deleted data"). Once applied its actions cannot be undone.
type DataPolicy struct {
	RelinquishDeletedData bool
	RelinquishAfterDays   int
	AnonymiseCustomerData bool
	RemoveCDRs            bool
}

// DefaultDataPolicy is what "use default" restores.
func DefaultDataPolicy() DataPolicy {
	return DataPolicy{RelinquishDeletedData: false, RelinquishAfterDays: 90, AnonymiseCustomerData: true, RemoveCDRs: false}
}

// UsesDefault reports whether the policy equals the default.
func (d DataPolicy) UsesDefault() bool { return d == DefaultDataPolicy() }

// Validate checks the settings.
func (d DataPolicy) Validate() error {
	return ValidateRetentionDays("relinquishAfterDays", d.RelinquishAfterDays)
}

// Acts reports whether the data policy does anything to a customer in the
// given status.
func (d DataPolicy) Acts(status Status) bool {
	return d.RelinquishDeletedData && (d.AnonymiseCustomerData || d.RemoveCDRs) &&
		(status == StatusCancelled || status == StatusDeleted)
}
