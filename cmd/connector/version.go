package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(a *app) *cobra.Command {
	return command("version", "print the module version and the VCS revision it was built from", exactArgs(0),
		func(*cobra.Command, []string) error {
			fmt.Fprintln(a.stdout, version())
			return nil
		})
}

// version is the module version and, when the build recorded it, the VCS
// revision, its time and whether the tree had uncommitted changes.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "connector (no build information)"
	}
	s := "connector " + bi.Main.Version
	var rev, at, modified string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.time":
			at = kv.Value
		case "vcs.modified":
			modified = kv.Value
		}
	}
	if rev != "" {
		s += ", revision " + rev
		if at != "" {
			s += " (" + at + ")"
		}
		if modified == "true" {
			s += ", modified"
		}
	}
	return s + ", " + bi.GoVersion
}
