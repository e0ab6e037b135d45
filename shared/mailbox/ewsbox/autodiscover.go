package ewsbox

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Attempt is one Autodiscover URL tried and what came of it.
type Attempt struct {
	URL    string
	EWSURL string // found, when Err is nil
	Found  string // what a DNS SRV lookup found
	Err    error
}

// Candidates are the POX Autodiscover URLs of address's domain, in the
// order Exchange clients try them.
func Candidates(address string) []string {
	_, domain, ok := strings.Cut(address, "@")
	if !ok || domain == "" {
		return nil
	}
	return []string{
		"https://" + domain + "/autodiscover/autodiscover.xml",
		"https://autodiscover." + domain + "/autodiscover/autodiscover.xml",
	}
}

// Autodiscover finds the EWS URL of address with POX Autodiscover
// (https://learn.microsoft.com/exchange/client-developer/web-service-reference/pox-autodiscover-web-service-reference-for-exchange),
// trying each of urls (Candidates(address) when nil) with cfg's
// authentication and TLS settings until one answers with an EwsUrl. It
// returns every attempt, for Test Connection to show.
func Autodiscover(ctx context.Context, cfg Config, address string, urls []string) (string, []Attempt, error) {
	if urls == nil {
		urls = Candidates(address)
	}
	if len(urls) == 0 {
		return "", nil, fmt.Errorf("autodiscover: %q is not an email address", address)
	}
	var attempts []Attempt
	for _, u := range urls {
		c, err := newClient(Config{Server: cfg.Server, Endpoint: u, Auth: cfg.Auth, Username: cfg.Username, Password: cfg.Password, TokenSource: cfg.TokenSource, HTTPClient: cfg.HTTPClient, Resolver: cfg.Resolver, Dial: cfg.Dial, Trace: cfg.Trace})
		if err != nil {
			return "", attempts, err
		}
		ews, err := c.autodiscover(ctx, address)
		c.http.CloseIdleConnections()
		attempts = append(attempts, Attempt{URL: u, EWSURL: ews, Err: err})
		if err == nil {
			return ews, attempts, nil
		}
	}
	return "", attempts, fmt.Errorf("autodiscover found no EWS URL for %s at %d URLs: %w", address, len(urls), attempts[len(attempts)-1].Err)
}

func (c *client) autodiscover(ctx context.Context, address string) (string, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>`)
	_ = xml.EscapeText(&b, []byte(address))
	b.WriteString(`</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, &b)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if err := c.auth(req); err != nil {
		return "", err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", &HTTPError{Status: resp.StatusCode, Body: strings.TrimSpace(string(body[:min(len(body), 200)]))}
	}
	var doc node
	if err := xml.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("read the Autodiscover response: %w", err)
	}
	if e := doc.find("Error"); e != nil {
		return "", fmt.Errorf("autodiscover error %s: %s", e.text("ErrorCode"), e.text("Message"))
	}
	var fallback string
	for _, p := range doc.findAll("Protocol") {
		u := p.text("EwsUrl")
		if u == "" {
			continue
		}
		if p.text("Type") == "EXCH" {
			return u, nil
		}
		fallback = u
	}
	if fallback != "" {
		return fallback, nil
	}
	return "", errors.New("the Autodiscover response names no EwsUrl")
}
