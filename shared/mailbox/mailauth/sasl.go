package mailauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/Azure/go-ntlmssp"
	"github.com/emersion/go-sasl"
)

// ntlmClient is SASL NTLM (draft-ietf-sasl-ntlm / [MS-NLMP]): the
// NEGOTIATE message as the initial response, the AUTHENTICATE message
// (NTLMv2) in answer to the server's CHALLENGE.
type ntlmClient struct {
	user, password, domain string
	step                   int
}

// NewNTLMClient returns a SASL NTLM client. domain, when set, is sent as
// the user's domain (Exchange on premises wants it; Dovecot wants none);
// a user written DOMAIN\user works too.
func NewNTLMClient(user, password, domain string) sasl.Client {
	return &ntlmClient{user: user, password: password, domain: domain}
}

func (c *ntlmClient) Start() (string, []byte, error) {
	c.step = 0
	msg, err := ntlmssp.NewNegotiateMessage("", "")
	if err != nil {
		return "", nil, fmt.Errorf("NTLM: build the negotiate message: %w", err)
	}
	return NTLM, msg, nil
}

func (c *ntlmClient) Next(challenge []byte) ([]byte, error) {
	c.step++
	if c.step > 1 {
		return nil, errors.New("NTLM: unexpected server challenge after the authenticate message")
	}
	user := c.user
	if c.domain != "" && !strings.Contains(user, `\`) {
		user = c.domain + `\` + user
	}
	msg, err := ntlmssp.NewAuthenticateMessage(challenge, user, c.password, nil)
	if err != nil {
		// go-ntlmssp's errors describe the message, never the password.
		return nil, fmt.Errorf("NTLM: answer the server's challenge: %w", err)
	}
	return msg, nil
}

// oauthError is the JSON error a server sends as the last challenge of a
// refused XOAUTH2 or OAUTHBEARER exchange (RFC 7628 section 3.2.2).
type oauthError struct {
	Status  string `json:"status"`
	Schemes string `json:"schemes"`
	Scope   string `json:"scope"`
}

func describeOAuthError(challenge []byte) string {
	var e oauthError
	if err := json.Unmarshal(challenge, &e); err != nil || e.Status == "" {
		return "the server refused the token"
	}
	s := "the server refused the token (status " + e.Status
	if e.Scope != "" {
		s += ", scope needed: " + e.Scope
	}
	return s + ")"
}

// xoauth2Client is XOAUTH2 as Google and Microsoft define it:
// "user=" user ^A "auth=Bearer " token ^A ^A; on failure the server sends
// a JSON error challenge and the client answers with an empty response.
type xoauth2Client struct {
	user, token string
	detail      string
}

// NewXOAuth2Client returns a SASL XOAUTH2 client.
func NewXOAuth2Client(user, token string) sasl.Client {
	return &xoauth2Client{user: user, token: token}
}

func (c *xoauth2Client) Start() (string, []byte, error) {
	return XOAuth2, []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

func (c *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	c.detail = describeOAuthError(challenge)
	return []byte{}, nil
}

func (c *xoauth2Client) Detail() string { return c.detail }

// oauthBearerClient is OAUTHBEARER (RFC 7628 section 3.1): a GS2 header
// with the user as authzid, host, port and "auth=Bearer <token>"; to an
// error challenge it answers with a single %x01 (section 3.2.3).
type oauthBearerClient struct {
	user, token, host string
	port              int
	detail            string
}

// NewOAuthBearerClient returns a SASL OAUTHBEARER client.
func NewOAuthBearerClient(user, token, host string, port int) sasl.Client {
	return &oauthBearerClient{user: user, token: token, host: host, port: port}
}

func (c *oauthBearerClient) Start() (string, []byte, error) {
	// RFC 7628 section 3.1: gs2-header "n,a=<authzid>," where ',' and '='
	// in the authzid are escaped as =2C and =3D (RFC 5801 section 4).
	authz := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(c.user)
	s := "n,a=" + authz + ","
	if c.host != "" {
		s += "\x01host=" + c.host
	}
	if c.port != 0 {
		s += "\x01port=" + strconv.Itoa(c.port)
	}
	s += "\x01auth=Bearer " + c.token + "\x01\x01"
	return OAuthBearer, []byte(s), nil
}

func (c *oauthBearerClient) Next(challenge []byte) ([]byte, error) {
	c.detail = describeOAuthError(challenge)
	return []byte{0x01}, nil
}

func (c *oauthBearerClient) Detail() string { return c.detail }
