package mailauth_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"mailconnector/shared/mailbox/mailauth"
	"mailconnector/shared/redact"
	"mailconnector/shared/secrets"
)

// echoTokenServer refuses every token request and echoes it back: the
// worst a token endpoint can do with an error body. kind chooses how.
func echoTokenServer(tb testing.TB, kind string) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		echo := r.Header.Get("Authorization") + " " + string(body)
		switch kind {
		case "json":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "you sent " + echo, "error_uri": "https://idp.example/" + echo})
		case "form":
			w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, url.Values{"error": {"invalid_grant " + echo}, "error_description": {echo}}.Encode())
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "request was:\n"+echo)
		}
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// TestTokenErrorsFromAnEchoingEndpoint: whatever the token endpoint puts
// in its error body, the error carries at most its error code and a cut
// description (RFC 6749 section 5.2), and never a secret value in any
// encoding, also for values no resolver registered.
func TestTokenErrorsFromAnEchoingEndpoint(t *testing.T) {
	const clientSecret, refreshToken = "ECHO-client+secret/Value=", "ECHO-refresh+token/Value="
	tests := []struct {
		name, kind string
		creds      secrets.Credentials
		want       string
	}{
		{"json body, client credentials", "json", secrets.Credentials{ClientID: "app", ClientSecret: clientSecret}, "invalid_client"},
		{"json body, refresh token", "json", secrets.Credentials{ClientID: "app", ClientSecret: clientSecret, RefreshToken: refreshToken}, "invalid_client"},
		{"form body", "form", secrets.Credentials{ClientID: "app", ClientSecret: clientSecret, RefreshToken: refreshToken}, "401"},
		{"plain text body", "text", secrets.Credentials{ClientID: "app", ClientSecret: clientSecret, RefreshToken: refreshToken}, "500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.creds.TokenURL = echoTokenServer(t, tt.kind).URL
			src, err := (&mailauth.Tokens{}).Source("echo", tt.creds, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Token()
			if err == nil {
				t.Fatal("got a token, want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("got %q, want one line naming %s", msg, tt.want)
			}
			for _, v := range []string{clientSecret, refreshToken} {
				for _, form := range []string{v, url.QueryEscape(v), base64.StdEncoding.EncodeToString([]byte("app:" + url.QueryEscape(v)))[8:20], "ECHO-"} {
					if strings.Contains(msg, form) {
						t.Errorf("got %q, want no trace of a secret (found %q)", msg, form)
					}
				}
			}
		})
	}
}

// TestTokensObtainedAtRunTimeAreRegistered: access tokens and rotated
// refresh tokens a token source gets are masked from then on.
func TestTokensObtainedAtRunTimeAreRegistered(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"RUNTIME-access-token-1","refresh_token":"RUNTIME-rotated-refresh-1","token_type":"Bearer","expires_in":3600}`)
	}))
	defer srv.Close()
	src, err := (&mailauth.Tokens{}).Source("rt", secrets.Credentials{ClientID: "app", RefreshToken: "RUNTIME-first-refresh", TokenURL: srv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Token(); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"RUNTIME-access-token-1", "RUNTIME-rotated-refresh-1", "RUNTIME-first-refresh"} {
		if got := redact.String("x " + v); got != "x "+redact.Mask {
			t.Errorf("got %q, want %q", got, "x "+redact.Mask)
		}
	}
}
