// Package mailauth signs the connector in to IMAP and POP3 servers the
// ways a job may ask for: a password (the protocol's own LOGIN or
// USER/PASS, or SASL PLAIN, RFC 4616), SPA (SASL NTLM, with NTLMv2
// responses from github.com/Azure/go-ntlmssp) and OAuth2 (SASL XOAUTH2 as
// Google and Microsoft define it, or OAUTHBEARER, RFC 7628) with an access
// token from golang.org/x/oauth2: client credentials, or a refresh token
// kept in the job's secret, refreshed before it expires, a rotated refresh
// token written back to the secret.
//
// The adapters (imapbox, pop3box) ask Mechanism which mechanism the job
// wants, then run the SASL exchange with the client ClientFor returns. No error
// of this package holds a password or a token.
package mailauth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"

	"mailconnector/shared/job"
	"mailconnector/shared/secrets"
)

// The SASL mechanism names (RFC 4616, the NTLM SASL draft, Google's and
// Microsoft's XOAUTH2, RFC 7628).
const (
	Plain       = "PLAIN"
	NTLM        = "NTLM"
	XOAuth2     = "XOAUTH2"
	OAuthBearer = "OAUTHBEARER"
)

// ErrUnsupported means the job asks for a method or mechanism this
// package does not speak.
var ErrUnsupported = errors.New("mailauth: authentication method not supported")

// Mechanism returns the SASL mechanism a job's auth asks for; "" means the
// protocol's own password command (IMAP LOGIN, POP3 USER/PASS).
//
//	method password: mechanism login (default) → "", plain → PLAIN
//	method spa:      → NTLM (mechanism empty or ntlm)
//	method oauth2:   mechanism xoauth2 (default) → XOAUTH2, oauthbearer → OAUTHBEARER
func Mechanism(a job.Auth) (string, error) {
	mech := strings.ToLower(strings.TrimSpace(a.Mechanism))
	switch a.Method {
	case "", job.AuthPassword:
		switch mech {
		case "", "login":
			return "", nil
		case "plain":
			return Plain, nil
		}
		return "", fmt.Errorf("%w: mechanism %q for method password (use login or plain)", ErrUnsupported, a.Mechanism)
	case job.AuthSPA:
		switch mech {
		case "", "ntlm", "spa":
			return NTLM, nil
		}
		return "", fmt.Errorf("%w: mechanism %q for method spa (use ntlm)", ErrUnsupported, a.Mechanism)
	case job.AuthOAuth2:
		switch mech {
		case "", "xoauth2":
			return XOAuth2, nil
		case "oauthbearer":
			return OAuthBearer, nil
		}
		return "", fmt.Errorf("%w: mechanism %q for method oauth2 (use xoauth2 or oauthbearer)", ErrUnsupported, a.Mechanism)
	}
	return "", fmt.Errorf("%w: method %q (use password, spa or oauth2)", ErrUnsupported, a.Method)
}

// Options are what a SASL client may need besides the credentials.
type Options struct {
	// Token is the OAuth2 access token, for XOAUTH2 and OAUTHBEARER.
	Token string
	// Host and Port name the server, for OAUTHBEARER's gs2 header.
	Host string
	Port int
}

// Client returns the SASL client of mech for creds. Its Next never returns
// an error for a server's OAuth error challenge: it answers as the
// mechanism prescribes so the server ends the exchange with a failure, and
// Detail then tells what the server said.
func Client(mech string, creds secrets.Credentials, o Options) (sasl.Client, error) {
	if creds.Username == "" {
		return nil, errors.New("the secret holds no username")
	}
	switch mech {
	case Plain:
		if creds.Password == "" {
			return nil, errors.New("the secret holds no password")
		}
		return sasl.NewPlainClient("", creds.Username, creds.Password), nil
	case NTLM:
		if creds.Password == "" {
			return nil, errors.New("the secret holds no password")
		}
		return NewNTLMClient(creds.Username, creds.Password, creds.Domain), nil
	case XOAuth2:
		if o.Token == "" {
			return nil, errors.New("no OAuth2 access token")
		}
		return NewXOAuth2Client(creds.Username, o.Token), nil
	case OAuthBearer:
		if o.Token == "" {
			return nil, errors.New("no OAuth2 access token")
		}
		return NewOAuthBearerClient(creds.Username, o.Token, o.Host, o.Port), nil
	}
	return nil, fmt.Errorf("%w: SASL mechanism %q", ErrUnsupported, mech)
}

// ClientFor returns the SASL client of mech for the job's server on port:
// for auth method oauth2 with an access token from ts (AccessToken),
// whose notes belong in the run record. The IMAP and POP3 adapters share
// this one path from a job to a SASL client.
func ClientFor(mech string, srv job.Server, port int, creds secrets.Credentials, ts oauth2.TokenSource) (c sasl.Client, notes []string, err error) {
	o := Options{Host: srv.Host, Port: port}
	if srv.Auth.Method == job.AuthOAuth2 {
		if o.Token, notes, err = AccessToken(ts, creds); err != nil {
			return nil, nil, err
		}
	}
	c, err = Client(mech, creds, o)
	return c, notes, err
}

// Detailer is a SASL client that learnt why the server refused it (the
// OAuth error status of XOAUTH2 and OAUTHBEARER).
type Detailer interface {
	Detail() string
}

// Detail returns what c learnt about a refusal, or "".
func Detail(c sasl.Client) string {
	if d, ok := c.(Detailer); ok {
		return d.Detail()
	}
	return ""
}
