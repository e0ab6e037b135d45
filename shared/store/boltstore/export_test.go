package boltstore

// Transactions is the number of write transactions s's writer has run, for
// the benchmarks to report how many calls a group commit takes.
func Transactions(s *Store) int64 { return s.txns.Load() }
