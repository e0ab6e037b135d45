package localsecrets

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mailconnector/shared/redact"
	"mailconnector/shared/secrets"
)

const secretValue = "hunter2-Sup3r"

func TestEnvName(t *testing.T) {
	tests := []struct{ name, ref, want string }{
		{"plain", "support", "CONNECTOR_SECRET_SUPPORT"},
		{"path", "mail/support-inbox", "CONNECTOR_SECRET_MAIL_SUPPORT_INBOX"},
		{"arn-ish", "arn:aws:secretsmanager:eu-west-1:1:secret:x.y", "CONNECTOR_SECRET_ARN_AWS_SECRETSMANAGER_EU_WEST_1_1_SECRET_X_Y"},
		{"non-ASCII", "boîte", "CONNECTOR_SECRET_BO_TE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EnvName(tt.ref); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// resolver reads env from the map instead of the process environment.
func resolver(tb testing.TB, env map[string]string, file string) *Resolver {
	tb.Helper()
	dir := tb.TempDir()
	if file != "" {
		if err := os.WriteFile(filepath.Join(dir, FileName), []byte(file), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	r := New(dir)
	r.lookup = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	return r
}

const fileYAML = `
mail/support:
  username: support@example.com
  password: ` + secretValue + `
graph-app:
  clientId: 11111111-2222
  clientSecret: ` + secretValue + `
  tenantId: contoso
  scopes: [https://graph.microsoft.com/.default]
`

func TestResolve(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		file     string
		ref      string
		want     secrets.Credentials
		wantErr  []string // substrings of the error
		notFound bool
	}{
		{
			name: "from env",
			env:  map[string]string{"CONNECTOR_SECRET_MAIL_SUPPORT": `{"username":"env@example.com","password":"` + secretValue + `"}`},
			file: fileYAML,
			ref:  "mail/support",
			want: secrets.Credentials{Username: "env@example.com", Password: secretValue},
		},
		{
			name: "from file",
			file: fileYAML,
			ref:  "mail/support",
			want: secrets.Credentials{Username: "support@example.com", Password: secretValue},
		},
		{
			name: "oauth fields from file",
			file: fileYAML,
			ref:  "graph-app",
			want: secrets.Credentials{ClientID: "11111111-2222", ClientSecret: secretValue, TenantID: "contoso", Scopes: []string{"https://graph.microsoft.com/.default"}},
		},
		{
			name:     "missing everywhere",
			file:     fileYAML,
			ref:      "other",
			wantErr:  []string{`"other"`, "CONNECTOR_SECRET_OTHER", FileName},
			notFound: true,
		},
		{
			name:     "no file",
			ref:      "mail/support",
			wantErr:  []string{`"mail/support"`, "CONNECTOR_SECRET_MAIL_SUPPORT", "does not exist"},
			notFound: true,
		},
		{
			name:     "empty file",
			file:     "\n",
			ref:      "x",
			wantErr:  []string{"CONNECTOR_SECRET_X"},
			notFound: true,
		},
		{
			name:     "empty reference",
			ref:      " ",
			wantErr:  []string{"empty secret reference"},
			notFound: true,
		},
		{
			name:    "bad JSON",
			env:     map[string]string{"CONNECTOR_SECRET_X": `{"username":"u","password":` + secretValue + `}`},
			ref:     "x",
			wantErr: []string{"CONNECTOR_SECRET_X", "syntax error at byte"},
		},
		{
			name:    "wrong JSON type",
			env:     map[string]string{"CONNECTOR_SECRET_X": `{"password":["` + secretValue + `"]}`},
			ref:     "x",
			wantErr: []string{"CONNECTOR_SECRET_X", `field "password"`},
		},
		{
			name:    "misspelt JSON field",
			env:     map[string]string{"CONNECTOR_SECRET_X": `{"pasword":"` + secretValue + `"}`},
			ref:     "x",
			wantErr: []string{"CONNECTOR_SECRET_X", `unknown field "pasword"`},
		},
		{
			name:    "misspelt YAML field",
			file:    "x:\n  pasword: " + secretValue + "\n",
			ref:     "x",
			wantErr: []string{FileName, "pasword"},
		},
		{
			name:    "YAML type error",
			file:    "x:\n  scopes: " + secretValue + "\n",
			ref:     "x",
			wantErr: []string{FileName, "value withheld"},
		},
		{
			name:    "YAML syntax error",
			file:    "x:\n  password: \"" + secretValue + "\n  user",
			ref:     "x",
			wantErr: []string{FileName},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolver(t, tt.env, tt.file).Resolve(context.Background(), tt.ref)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("got error %v, want nil", err)
				}
				if d := cmp.Diff(tt.want, got); d != "" {
					// Do not print the values: compare field names only.
					t.Fatalf("credentials differ from what was stored")
				}
				return
			}
			if err == nil {
				t.Fatalf("got nil error, want one")
			}
			msg := err.Error()
			if strings.Contains(msg, secretValue) || strings.Contains(msg, secretValue[:1]+"'") {
				t.Fatalf("error leaks the secret value (error withheld)")
			}
			checkError(t, err, tt.wantErr, tt.notFound)
		})
	}
}

// checkError fails the test unless err's message contains each of
// wantErr and err is secrets.ErrNotFound exactly when notFound.
func checkError(t *testing.T, err error, wantErr []string, notFound bool) {
	t.Helper()
	msg := err.Error()
	for _, want := range wantErr {
		if !strings.Contains(msg, want) {
			t.Errorf("got error %q, want it to contain %q", msg, want)
		}
	}
	if got := errors.Is(err, secrets.ErrNotFound); got != notFound {
		t.Errorf("errors.Is(err, ErrNotFound): got %v, want %v", got, notFound)
	}
}

// TestProcessEnvironment checks that New reads the real environment.
func TestProcessEnvironment(t *testing.T) {
	t.Setenv("CONNECTOR_SECRET_FROM_PROCESS", `{"username":"p@example.com"}`)
	c, err := New(t.TempDir()).Resolve(context.Background(), "from.process")
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if c.Username != "p@example.com" {
		t.Fatalf("got username %q, want p@example.com", c.Username)
	}
}

// TestBrokenEntryFailsAloneAndQuotesNothing: a secrets file with one
// broken entry (a password starting with "*", which YAML reads as an
// alias) fails only the reference of that entry, with its line and never
// its content; the other entries still resolve.
func TestBrokenEntryFailsAloneAndQuotesNothing(t *testing.T) {
	const file = "# support mailboxes\n" +
		"mail/broken:\n" +
		"  username: a@example.com\n" +
		"  password: *CANARY1" + secretValue + "\n" +
		"mail/good:\n" +
		"  username: b@example.com\n" +
		"  password: " + secretValue + "\n" +
		"\"mail/quoted\":\n" +
		"  username: c@example.com\n" +
		"  password: '" + secretValue + "\n"
	tests := []struct {
		name     string
		ref      string
		want     secrets.Credentials
		wantErr  []string
		notFound bool
	}{
		{name: "good entry resolves", ref: "mail/good", want: secrets.Credentials{Username: "b@example.com", Password: secretValue}},
		{name: "broken entry names its line", ref: "mail/broken", wantErr: []string{`"mail/broken"`, FileName, "line 4"}},
		{name: "quoted key, unclosed quote", ref: "mail/quoted", wantErr: []string{`"mail/quoted"`, FileName, "line 10"}},
		{name: "unknown reference says which lines could not be read", ref: "mail/other", wantErr: []string{`"mail/other"`, "line 4", "line 10"}, notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolver(t, nil, file).Resolve(context.Background(), tt.ref)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("got error %v, want nil", err)
				}
				if got.Username != tt.want.Username || got.Password != tt.want.Password {
					t.Fatalf("got credentials of %q, want those of %q", got.Username, tt.want.Username)
				}
				return
			}
			if err == nil {
				t.Fatalf("got nil error, want one")
			}
			msg := err.Error()
			if strings.Contains(msg, "CANARY1") || strings.Contains(msg, secretValue) || strings.Contains(msg, "'") {
				t.Fatalf("got %q, want an error quoting nothing of the file", msg)
			}
			checkError(t, err, tt.wantErr, tt.notFound)
		})
	}
}

// TestResolvedValuesAreRegistered: what the resolver hands out is masked
// by the process's redactor from then on.
func TestResolvedValuesAreRegistered(t *testing.T) {
	const pw = "registered-Pa55word"
	c, err := resolver(t, nil, "x:\n  username: u\n  password: "+pw+"\n").Resolve(context.Background(), "x")
	if err != nil || c.Password != pw {
		t.Fatalf("resolve: got error %v", err)
	}
	if got := redact.String("login " + pw); strings.Contains(got, pw) {
		t.Errorf("got %q, want the password masked", got)
	}
}
