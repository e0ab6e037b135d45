package redact

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

const canary = "CANARY-s3cr3t/+&value"

func TestRedactorMasksEveryForm(t *testing.T) {
	r := &Redactor{}
	r.Add(canary, "", "abc") // empty and short ones are ignored
	tests := []struct {
		name, in string
	}{
		{"raw", "password " + canary + " refused"},
		{"query escaped", "client_secret=" + url.QueryEscape(canary) + "&x=1"},
		{"path escaped", "/t/" + url.PathEscape(canary)},
		{"json escaped", `{"p":"` + strings.ReplaceAll(canary, "&", `\u0026`) + `"}`},
		{"base64 alone", base64.StdEncoding.EncodeToString([]byte(canary))},
		{"base64 url alphabet", base64.URLEncoding.EncodeToString([]byte(canary))},
		{"sasl plain", "AUTHENTICATE PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00user\x00"+canary))},
		{"sasl plain other alignment", base64.StdEncoding.EncodeToString([]byte("\x00us\x00" + canary))},
		{"xoauth2", base64.StdEncoding.EncodeToString([]byte("user=agent\x01auth=Bearer " + canary + "\x01\x01"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.String(tt.in)
			if !strings.Contains(got, Mask) {
				t.Errorf("got %q, want %s in it", got, Mask)
			}
			if strings.Contains(got, canary) {
				t.Errorf("got %q, want no secret in it", got)
			}
		})
	}
	if got := r.String("abc and nothing else"); got != "abc and nothing else" {
		t.Errorf("got %q, want the text unchanged", got)
	}
}

func TestErrorKeepsTheChain(t *testing.T) {
	r := &Redactor{}
	r.Add(canary)
	err := r.Error(fmt.Errorf("login as %q with %s: %w", "agent", canary, fs.ErrPermission))
	if got := err.Error(); strings.Contains(got, canary) || !strings.Contains(got, `"agent"`) {
		t.Errorf("got %q, want the secret masked and the rest kept", got)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("got %v, want it to unwrap to fs.ErrPermission", err)
	}
	if r.Error(nil) != nil {
		t.Errorf("got an error for nil, want nil")
	}
}

func TestWriterAndHandler(t *testing.T) {
	Add(canary)
	var buf bytes.Buffer
	fmt.Fprintln(Writer(&buf), "connector: refused", canary)
	log := slog.New(Handler(slog.NewTextHandler(&buf, nil)))
	log.With("token", canary).Error("refused "+canary, "err", errors.New("bad "+canary),
		slog.Group("g", "v", canary), "any", map[string]string{"k": canary})
	if got := buf.String(); strings.Contains(got, canary) || strings.Count(got, Mask) != 6 {
		t.Errorf("got %q, want six masks and no secret", got)
	}
}

func TestOldestValuesAreForgottenPastTheBound(t *testing.T) {
	r := &Redactor{}
	for i := 0; i <= maxValues; i++ {
		r.Add(fmt.Sprintf("value-%06d", i))
	}
	if got := r.String("value-000000"); got != "value-000000" {
		t.Errorf("got %q, want the oldest value forgotten", got)
	}
	if got := r.String(fmt.Sprintf("value-%06d", maxValues)); got != Mask {
		t.Errorf("got %q, want %q", got, Mask)
	}
}
