//go:build !linux

package boltstore

import bolt "go.etcd.io/bbolt"

// dropMapped does nothing where madvise's MADV_DONTNEED is not known to
// leave a shared file mapping intact; the kernel reclaims the clean pages
// under memory pressure.
func dropMapped(*bolt.DB) error { return nil }
