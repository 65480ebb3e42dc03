package cluster

// SetSeedFault sets the hook Seed runs before each transaction (an error
// stands for the transaction's) until restore is called.
func SetSeedFault(f func(first int) error) (restore func()) {
	seedFault = f
	return func() { seedFault = nil }
}
