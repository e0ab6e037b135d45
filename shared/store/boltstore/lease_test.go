package boltstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailconnector/shared/store"
)

// TestLeaseOfAnEarlierOpenIsStale: the state file is locked to one
// process, so a lease left by an earlier open of it on this host (a
// killed run) is taken at once, while one of this open still holds.
func TestLeaseOfAnEarlierOpenIsStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	ctx := context.Background()
	tests := []struct {
		name    string
		host    string // the holder's host; "" this one
		reopen  bool
		wantErr error
	}{
		{name: "same open", wantErr: store.ErrLeaseHeld},
		{name: "earlier open on this host", reopen: true},
		{name: "another host", host: "elsewhere.example", reopen: true, wantErr: store.ErrLeaseHeld},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			job := strings.ReplaceAll(tc.name, " ", "-")
			if err := s.AcquireLease(ctx, job, "killed-run", 10*time.Minute); err != nil {
				t.Fatal(err)
			}
			if tc.host != "" {
				s.holder.Host = tc.host
				if err := s.AcquireLease(ctx, job, "killed-run", 10*time.Minute); err != nil {
					t.Fatal(err)
				}
			}
			if tc.reopen {
				s.Close()
				if s, err = Open(path, nil); err != nil {
					t.Fatal(err)
				}
			}
			defer s.Close()
			err = s.AcquireLease(ctx, job, "next-run", 10*time.Minute)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestStateLockErrorNamesTheHolder: a second open of a state held by
// another process says which process holds it.
func TestStateLockErrorNamesTheHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(path, &Options{OpenTimeout: 100 * time.Millisecond})
	if err == nil {
		t.Fatal("got a second open of a held state, want an error")
	}
	for _, want := range []string{"another connector process holds the state directory", "pid " + strconv.Itoa(os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to say %q", err, want)
		}
	}
}
