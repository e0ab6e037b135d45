package permanent_test

import (
	"errors"
	"fmt"
	"testing"

	"mailconnector/shared/permanent"
)

type marked bool

func (m marked) Error() string   { return "marked" }
func (m marked) Permanent() bool { return bool(m) }

func TestIs(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "plain", err: errors.New("timeout"), want: false},
		{name: "permanent", err: &permanent.Error{Err: errors.New("job gone")}, want: true},
		{name: "wrapped", err: fmt.Errorf("job a: %w", &permanent.Error{Err: errors.New("job gone")}), want: true},
		{name: "marked by another type", err: marked(true), want: true},
		{name: "marked not permanent", err: marked(false), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := permanent.Is(tt.err); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	e := &permanent.Error{Err: errors.New("job gone")}
	if e.Error() != "job gone" || !errors.Is(e, e.Err) {
		t.Errorf("got %q unwrapping to %v, want the cause's text and the cause", e.Error(), errors.Unwrap(e))
	}
}
