package boltstore

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// holder names the process that wrote a lease. bbolt locks the state file
// to one read-write process (flock), so a lease written on this host by
// another open of the state, whose process is dead or has closed the
// state, cannot belong to a run still going: it is stale at once, and a
// killed local run does not block its job until the lease expires.
type holder struct {
	Host    string `json:"host"`
	PID     int    `json:"pid"`
	Started string `json:"started,omitempty"` // process start, in clock ticks since boot (/proc)
	Open    string `json:"open"`              // one per Open of the state
}

func newHolder() holder {
	host, _ := os.Hostname()
	var b [8]byte
	_, _ = rand.Read(b[:])
	return holder{Host: host, PID: os.Getpid(), Started: processStart(os.Getpid()), Open: hex.EncodeToString(b[:])}
}

// staleFor says whether a lease written by h can no longer be held, seen
// from the open of the state that me describes.
func (h *holder) staleFor(me holder) bool {
	return h != nil && h.Host == me.Host && h.Open != me.Open
}

// processStart is field 22 of /proc/pid/stat (proc(5)), "" where unknown.
func processStart(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces: count after its ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		if f := strings.Fields(s[i+1:]); len(f) > 19 {
			return f[19]
		}
	}
	return ""
}

// pidPath is the file beside the state naming the process that holds it.
func pidPath(path string) string { return path + ".pid" }

// writePID records this process as the state's holder.
func writePID(path string) error {
	return os.WriteFile(pidPath(path), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
}

// heldBy describes the process named in the pid file beside the state:
// "pid 1234: connector run --jobs jobs.yaml", or what is known of it.
func heldBy(path string) string {
	b, err := os.ReadFile(pidPath(path))
	if err != nil {
		return "its pid is unknown"
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return "its pid is unknown"
	}
	cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(cmd) == 0 {
		return fmt.Sprintf("pid %d", pid)
	}
	return fmt.Sprintf("pid %d: %s", pid, strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " ")))
}
