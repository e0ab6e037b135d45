//go:build !linux

package fileblob

import (
	"os"
	"syscall"
)

// syncfs falls back to sync(2) where syncfs(2) does not exist.
func syncfs(*os.File) error {
	syscall.Sync()
	return nil
}
