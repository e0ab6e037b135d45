package invoke

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestInvokeAsyncSendsAnEventInvocation checks the request against a
// stand-in for the Lambda Invoke API (POST
// /2015-03-31/functions/NAME/invocations with X-Amz-Invocation-Type).
func TestInvokeAsyncSendsAnEventInvocation(t *testing.T) {
	var gotPath, gotType, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotPath, gotType, gotBody = r.URL.Path, r.Header.Get("X-Amz-Invocation-Type"), string(b)
		if gotType == "Event" {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"errorMessage":"boom"}`)
	}))
	defer srv.Close()
	c := lambda.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
	inv := New(c, "mail-connector-fetch")
	if err := inv.InvokeAsync(context.Background(), []byte(`{"jobId":"support","trigger":"continue"}`)); err != nil {
		t.Fatal(err)
	}
	if gotPath != "/2015-03-31/functions/mail-connector-fetch/invocations" || gotType != "Event" || gotBody != `{"jobId":"support","trigger":"continue"}` {
		t.Errorf("got %s %s %s", gotPath, gotType, gotBody)
	}
	_, err := inv.Sync(context.Background(), []byte(`{}`))
	if err == nil || !strings.Contains(err.Error(), "boom") || gotType != "RequestResponse" {
		t.Errorf("got %v (type %s), want the function's error", err, gotType)
	}
}
