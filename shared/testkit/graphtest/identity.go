package graphtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

type authCode struct {
	tenant, client, user, redirect, challenge string
	expires                                   time.Time
	openid                                    bool // the scope asked for openid: an id_token comes with the tokens
}

type device struct {
	tenant, client, userCode, user string
	expires                        time.Time
	polls                          int
}

// aadError writes the identity platform's error shape.
func aadError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc, "error_codes": []int{}, "timestamp": time.Now().UTC().Format(time.DateTime)})
}

func (s *Server) issue(w http.ResponseWriter, tenant, client, user string, withRefresh string) {
	s.issueWith(w, tenant, client, user, withRefresh, nil)
}

// idToken is an id_token for user as the v2.0 endpoint issues it
// (https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference):
// a JWT whose claims name the user in preferred_username. It is not
// signed: a client reads it straight from the token endpoint over TLS
// (OpenID Connect Core 1.0 section 3.1.3.7).
func idToken(tenant, client, user string) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "none"})
	now := time.Now().Unix()
	claims, _ := json.Marshal(map[string]any{"aud": client, "iss": "https://login.microsoftonline.com/" + tenant + "/v2.0",
		"tid": tenant, "iat": now, "nbf": now, "exp": now + 3600, "preferred_username": user, "name": user, "ver": "2.0"})
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "."
}

func (s *Server) issueWith(w http.ResponseWriter, tenant, client, user string, withRefresh string, extra map[string]any) {
	s.mu.Lock()
	at := "at-" + randomID(16)
	ttl := s.ttl
	s.access[at] = token{tenant: tenant, client: client, user: user, expires: time.Now().Add(ttl)}
	resp := map[string]any{"token_type": "Bearer", "access_token": at, "expires_in": int(ttl / time.Second), "ext_expires_in": int(ttl / time.Second)}
	if user != "" {
		rt := withRefresh
		if rt == "" || s.rotate {
			if rt != "" {
				delete(s.refresh, rt)
			}
			rt = "rt-" + randomID(16)
			s.refresh[rt] = token{tenant: tenant, client: client, user: user}
		}
		resp["refresh_token"] = rt
		resp["scope"] = "https://graph.microsoft.com/Mail.ReadWrite"
	}
	for k, v := range extra {
		resp[k] = v
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

// token is the /{tenant}/oauth2/v2.0/token endpoint.
func (s *Server) token(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodPost {
		aadError(w, http.StatusMethodNotAllowed, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
		return
	}
	if err := r.ParseForm(); err != nil {
		aadError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'.")
		return
	}
	client, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		client, secret = u, p
	}
	s.mu.Lock()
	known, registered := s.apps[tenant+"/"+client]
	s.mu.Unlock()
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		if !registered {
			aadError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application with identifier '"+client+"' was not found in the directory '"+tenant+"'.")
			return
		}
		if secret != known {
			aadError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
			return
		}
		if !strings.HasSuffix(r.PostForm.Get("scope"), "/.default") {
			aadError(w, http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.")
			return
		}
		s.issue(w, tenant, client, "", "")
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		s.mu.Lock()
		t, ok := s.refresh[rt]
		s.mu.Unlock()
		if !ok || t.tenant != tenant || t.client != client {
			aadError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70000: The provided value for the 'refresh_token' is not valid.")
			return
		}
		if registered && secret != "" && secret != known {
			aadError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
			return
		}
		s.issue(w, tenant, client, t.user, rt)
	case "authorization_code":
		code := r.PostForm.Get("code")
		s.mu.Lock()
		ac, ok := s.codes[code]
		delete(s.codes, code) // single use
		s.mu.Unlock()
		switch {
		case !ok || ac.client != client || ac.tenant != tenant || time.Now().After(ac.expires):
			aadError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired or is invalid.")
		case r.PostForm.Get("redirect_uri") != ac.redirect:
			aadError(w, http.StatusBadRequest, "invalid_grant", "AADSTS50148: The redirect_uri does not match the one of the authorization request.")
		case pkceS256(r.PostForm.Get("code_verifier")) != ac.challenge:
			aadError(w, http.StatusBadRequest, "invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		case registered && secret != known:
			aadError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		default:
			var extra map[string]any
			if ac.openid {
				extra = map[string]any{"id_token": idToken(tenant, client, ac.user)}
			}
			s.issueWith(w, tenant, client, ac.user, "", extra)
		}
	case "urn:ietf:params:oauth:grant-type:device_code":
		code := r.PostForm.Get("device_code")
		s.mu.Lock()
		d, ok := s.devices[code]
		var user string
		pending, expired := false, false
		if ok && d.client == client {
			switch {
			case time.Now().After(d.expires):
				expired = true
			case d.user == "" && s.autoUser != "" && d.polls > 0:
				// The user signed in between the first poll and this one.
				user = s.autoUser
			case d.user == "":
				d.polls++
				pending = true
			default:
				user = d.user
			}
			if user != "" {
				delete(s.devices, code)
			}
		}
		s.mu.Unlock()
		switch {
		case !ok || d.client != client:
			aadError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70000: The provided value for the 'device_code' is not valid.")
		case expired:
			aadError(w, http.StatusBadRequest, "expired_token", "AADSTS70019: Verification code expired.")
		case pending:
			aadError(w, http.StatusBadRequest, "authorization_pending", "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending.")
		default:
			s.issue(w, tenant, client, user, "")
		}
	default:
		aadError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
	}
}

// deviceCode is the /{tenant}/oauth2/v2.0/devicecode endpoint.
func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") == "" {
		aadError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'client_id'.")
		return
	}
	code := "dc-" + randomID(16)
	user := strings.ToUpper(randomID(4))
	s.mu.Lock()
	s.devices[code] = &device{tenant: tenant, client: r.PostForm.Get("client_id"), userCode: user, expires: time.Now().Add(15 * time.Minute)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code": code, "user_code": user, "verification_uri": s.hs.URL + "/devicelogin",
		"expires_in": 900, "interval": 1,
		"message": "To sign in, use a web browser to open the page " + s.hs.URL + "/devicelogin and enter the code " + user + " to authenticate.",
	})
}

// AutoApproveDevices makes user sign in to every device code: the first
// poll of a code is still pending, the next one gets the tokens.
func (s *Server) AutoApproveDevices(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autoUser = strings.ToLower(user)
}

func pkceS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// SetSignedInUser is who signs in at /authorize.
func (s *Server) SetSignedInUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signedIn = strings.ToLower(user)
}

// authorizeEndpoint is GET /{tenant}/oauth2/v2.0/authorize: the user of
// SetSignedInUser signs in and consents at once, and the browser goes back
// to redirect_uri with a code and the state
// (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow).
func (s *Server) authorizeEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") == "" || redirect == "" || q.Get("response_type") != "code" {
		http.Error(w, "AADSTS900144: The request body must contain client_id, redirect_uri and response_type=code.", http.StatusBadRequest)
		return
	}
	u, err := url.Parse(redirect)
	if err != nil {
		http.Error(w, "AADSTS50011: The redirect URI is not valid.", http.StatusBadRequest)
		return
	}
	back := u.Query()
	s.mu.Lock()
	user := s.signedIn
	if user == "" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		s.mu.Unlock()
		back.Set("error", "invalid_request")
		back.Set("error_description", "AADSTS65001: The user or administrator has not consented, or PKCE is missing.")
	} else {
		code := "ac-" + randomID(16)
		s.codes[code] = authCode{tenant: tenant, client: q.Get("client_id"), user: user, redirect: redirect, challenge: q.Get("code_challenge"), expires: time.Now().Add(10 * time.Minute),
			openid: slices.Contains(strings.Fields(q.Get("scope")), "openid")}
		s.mu.Unlock()
		back.Set("code", code)
	}
	back.Set("state", q.Get("state"))
	u.RawQuery = back.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// ApproveDevice signs user in for the pending device code userCode.
func (s *Server) ApproveDevice(userCode, user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.devices {
		if d.userCode == userCode {
			d.user = strings.ToLower(user)
			return true
		}
	}
	return false
}

// IssueAccessToken returns an access token of the app (user "") or of user,
// valid for ttl, without a token request.
func (s *Server) IssueAccessToken(tenant, clientID, user string, ttl time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := "at-" + randomID(16)
	s.access[at] = token{tenant: tenant, client: clientID, user: strings.ToLower(user), expires: time.Now().Add(ttl)}
	return at
}
