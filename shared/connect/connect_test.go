package connect_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"mailconnector/shared/connect"
	"mailconnector/shared/job"
	"mailconnector/shared/mailbox"
	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/secrets"
	"mailconnector/shared/secrets/secretstest"
	"mailconnector/shared/testkit/dovecottest"
)

// memSecrets is a secrets.Resolver and secrets.Writer in memory.
type memSecrets struct {
	mu sync.Mutex
	m  secretstest.Map
}

func (s *memSecrets) Resolve(ctx context.Context, ref string) (secrets.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.Resolve(ctx, ref)
}

func (s *memSecrets) WriteBack(_ context.Context, ref string, c secrets.Credentials) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[ref] = c
	return true, nil
}

var _ secrets.Writer = (*memSecrets)(nil)

func TestOpenPicksTheAdapterAndKeepsRotatedTokens(t *testing.T) {
	o := dovecottest.StartOAuth(t)
	o.SetRotate(true)
	srv := dovecottest.Start(t, &dovecottest.Options{OAuth2IntrospectionURL: o.IntrospectionURL()})
	if err := srv.AddUser("desk", "pw-desk"); err != nil {
		t.Fatal(err)
	}
	o.AddClient("app", "app-secret", "desk")
	rt := o.IssueRefreshToken("app", "desk")
	sec := &memSecrets{m: map[string]secrets.Credentials{
		"pw":    {Username: "desk", Password: "pw-desk"},
		"oauth": {Username: "desk", ClientID: "app", ClientSecret: "app-secret", TokenURL: o.TokenURL(), RefreshToken: rt},
		"empty": {Username: "desk"},
	}}
	opener := connect.Opener{Secrets: sec, Tokens: &mailauth.Tokens{}}
	tests := []struct {
		name     string
		protocol job.Protocol
		kind     dovecottest.Kind
		auth     job.Auth
		wantErr  mailbox.Step
		wantInfo string
	}{
		{"imap password", job.IMAP, dovecottest.IMAP, job.Auth{Secret: "pw"}, "", "imap"},
		{"pop3 password", job.POP3, dovecottest.POP3, job.Auth{Secret: "pw"}, "", "pop3"},
		{"pop3 oauth2", job.POP3, dovecottest.POP3, job.Auth{Method: job.AuthOAuth2, Secret: "oauth"}, "", "pop3"},
		{"imap oauth2 without a grant", job.IMAP, dovecottest.IMAP, job.Auth{Method: job.AuthOAuth2, Secret: "empty"}, mailbox.StepAuth, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &job.Job{ID: "support", Server: job.Server{Protocol: tt.protocol, Host: srv.Host, Port: srv.Port(tt.kind),
				Security: job.SecurityNone, Auth: tt.auth, Timeout: job.Duration(5 * time.Second)}}
			s, err := opener.Open(context.Background(), j)
			if tt.wantErr != "" {
				var ce *mailbox.ConnectError
				if !errors.As(err, &ce) || ce.Step != tt.wantErr {
					t.Fatalf("got %v, want step %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.Info().Protocol; got != tt.wantInfo {
				t.Errorf("got protocol %s, want %s", got, tt.wantInfo)
			}
		})
	}
	if got := sec.m["oauth"].RefreshToken; got == rt || got == "" {
		t.Errorf("the secret's refresh token was not replaced by the rotated one")
	}
}
