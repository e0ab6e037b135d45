package boltstore

import (
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// dropMapped tells the kernel that this process no longer needs the
// state file's mapped pages (madvise MADV_DONTNEED). bbolt maps the file
// read-only and shared and writes with pwrite, so the pages are clean
// copies of the page cache: nothing is lost, a later read maps the page
// again from the cache (a minor fault), and what the process holds
// resident stops growing with the history it has read. It runs in a read
// transaction, which keeps bbolt from remapping the file meanwhile.
func dropMapped(db *bolt.DB) error {
	return db.View(func(tx *bolt.Tx) error {
		size := tx.Size() // the pages in use: within the mapping
		if size <= 0 {
			return nil
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, db.Info().Data, uintptr(size), unix.MADV_DONTNEED)
		if errno != 0 {
			return errno
		}
		return nil
	})
}
