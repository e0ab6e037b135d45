package boltstore

import bolt "go.etcd.io/bbolt"

// Transactions is the number of write transactions s's writer has run, for
// the benchmarks to report how many calls a group commit takes.
func Transactions(s *Store) int64 { return s.txns.Load() }

// View runs fn in a read transaction of s's file.
func View(s *Store, fn func(*bolt.Tx) error) error { return s.db.View(fn) }
