package invoke

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"mailconnector/shared/testkit/awstest"
)

var moto *awstest.Moto

func TestMain(m *testing.M) { awstest.Main(m, &moto) }

// TestOnMoto invokes through moto's Lambda without Docker (its "simple"
// backend, switched on through /moto-api/config): it answers 202 only to
// an Event invocation and echoes the payload of a synchronous one. That
// backend runs nothing and answers for any function name, so a missing
// function is tested on the stand-in below.
func TestOnMoto(t *testing.T) {
	resp, err := http.Post(moto.URL+"/moto-api/config", "application/json", strings.NewReader(`{"lambda":{"use_docker":false}}`))
	if err != nil {
		t.Fatalf("configure moto: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("configure moto: status %s", resp.Status)
	}
	inv := New(lambda.NewFromConfig(moto.Config()), "mail-connector-fetch")
	payload := []byte(`{"jobId":"support","trigger":"continue","chain":2}`)
	if err := inv.InvokeAsync(context.Background(), payload); err != nil {
		t.Errorf("InvokeAsync: %v", err)
	}
	got, err := inv.Sync(context.Background(), payload)
	if err != nil || string(got) != string(payload) {
		t.Errorf("Sync: got %s, %v; want the payload echoed", got, err)
	}
}

// request is what the stand-in received.
type request struct{ method, path, invocationType, body string }

// TestRequests checks requests against a stand-in for the Lambda Invoke
// API (POST /2015-03-31/functions/NAME/invocations, the invocation type
// in X-Amz-Invocation-Type) and the errors it answers.
func TestRequests(t *testing.T) {
	payload := `{"jobId":"support","trigger":"continue"}`
	tests := []struct {
		name    string
		fn      string
		respond func(w http.ResponseWriter)
		call    func(inv *Invoker) error
		want    request
		wantErr func(error) bool
	}{
		{
			name: "async", fn: "mail-connector-fetch",
			respond: func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) },
			call:    func(inv *Invoker) error { return inv.InvokeAsync(context.Background(), []byte(payload)) },
			want:    request{"POST", "/2015-03-31/functions/mail-connector-fetch/invocations", "Event", payload},
			wantErr: func(err error) bool { return err == nil },
		},
		{
			name: "async, function missing", fn: "gone",
			respond: func(w http.ResponseWriter) {
				w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				io.WriteString(w, `{"Type":"User","message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:gone"}`)
			},
			call: func(inv *Invoker) error { return inv.InvokeAsync(context.Background(), []byte(payload)) },
			want: request{"POST", "/2015-03-31/functions/gone/invocations", "Event", payload},
			wantErr: func(err error) bool {
				var nf *types.ResourceNotFoundException
				return errors.As(err, &nf) && strings.Contains(err.Error(), "gone")
			},
		},
		{
			name: "async answered with 200", fn: "f",
			respond: func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) },
			call:    func(inv *Invoker) error { return inv.InvokeAsync(context.Background(), []byte(payload)) },
			want:    request{"POST", "/2015-03-31/functions/f/invocations", "Event", payload},
			wantErr: func(err error) bool { return err != nil && strings.Contains(err.Error(), "status 200") },
		},
		{
			name: "sync, the function fails", fn: "f",
			respond: func(w http.ResponseWriter) {
				w.Header().Set("X-Amz-Function-Error", "Unhandled")
				w.WriteHeader(http.StatusOK)
				io.WriteString(w, `{"errorMessage":"boom"}`)
			},
			call: func(inv *Invoker) error { _, err := inv.Sync(context.Background(), []byte(`{}`)); return err },
			want: request{"POST", "/2015-03-31/functions/f/invocations", "RequestResponse", `{}`},
			wantErr: func(err error) bool {
				return err != nil && strings.Contains(err.Error(), "boom") && strings.Contains(err.Error(), "Unhandled")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got request
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got = request{r.Method, r.URL.Path, r.Header.Get("X-Amz-Invocation-Type"), string(b)}
				tt.respond(w)
			}))
			defer srv.Close()
			c := lambda.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
			err := tt.call(New(c, tt.fn))
			if got != tt.want {
				t.Errorf("got request %+v, want %+v", got, tt.want)
			}
			if !tt.wantErr(err) {
				t.Errorf("got error %v", err)
			}
		})
	}
}
