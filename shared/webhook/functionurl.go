package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"mailconnector/shared/lazyre"
)

// FunctionURL serves a Lambda Function URL event (payload format 2.0)
// with an http.Handler, so the same handler runs behind the Function URL
// and as a plain HTTP server in tests.
func FunctionURL(h http.Handler) func(context.Context, events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	return func(ctx context.Context, ev events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
		body := []byte(ev.Body)
		if ev.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(ev.Body)
			if err != nil {
				return events.LambdaFunctionURLResponse{StatusCode: http.StatusBadRequest, Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, Body: "Bad Request\n"}, nil
			}
			body = b
		}
		path := ev.RawPath
		if path == "" {
			path = "/"
		}
		target := path
		if ev.RawQueryString != "" {
			target += "?" + ev.RawQueryString
		}
		method := ev.RequestContext.HTTP.Method
		if method == "" {
			method = http.MethodGet
		}
		req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
		if err != nil {
			return events.LambdaFunctionURLResponse{StatusCode: http.StatusBadRequest, Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, Body: "Bad Request\n"}, nil
		}
		for k, v := range ev.Headers {
			req.Header.Set(k, v)
		}
		req.Host = ev.RequestContext.DomainName
		req.RemoteAddr = ev.RequestContext.HTTP.SourceIP
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resp := events.LambdaFunctionURLResponse{StatusCode: rec.Code, Headers: map[string]string{}, Body: rec.Body.String()}
		for k, v := range rec.Header() {
			resp.Headers[k] = strings.Join(v, ",")
		}
		return resp, nil
	}
}

// functionURLDomain is the form of a Lambda Function URL's domain:
// <url-id>.lambda-url.<region>.on.aws (AWS Lambda developer guide,
// "Lambda function URLs").
var functionURLDomain = lazyre.New(`^[a-z0-9]{1,64}\.lambda-url\.[a-z0-9-]{1,32}\.on\.aws$`)

// SelfURL is the Function URL the Lambda service reports for an event
// (requestContext.domainName, which Lambda sets from the URL it routed the
// request through; the client's Host and X-Forwarded-* headers play no
// part), as "https://<domain>/"; "" when the domain is not a Function URL
// domain. The webhook uses it as its own URL when CONNECTOR_WEBHOOK_URL is
// not set: a function cannot be given its own Function URL in its
// environment (CloudFormation would see a circular dependency).
func SelfURL(ev events.LambdaFunctionURLRequest) string {
	d := strings.ToLower(ev.RequestContext.DomainName)
	if !functionURLDomain.MatchString(d) {
		return ""
	}
	return "https://" + d + "/"
}
