package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-lambda-go/events"
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
