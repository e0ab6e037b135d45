// Command deploysummary prints what a deploy of a jobs file will set up,
// for `make synth`: each job with its schedule in words, the secrets that
// must exist in Secrets Manager (and, when AWS credentials are at hand,
// whether each does), the webhook output of a push job, and warnings for
// what should not reach a deployed stack: plaintext connections
// (security: none or starttls-if-available) and loopback hosts.
//
//	deploysummary [JOBS_FILE]
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"mailconnector/shared/job"
)

const defaultJobsFile = "events/jobs.example.yaml"

func main() {
	path := defaultJobsFile
	if len(os.Args) > 1 && os.Args[1] != "" {
		path = os.Args[1]
	}
	if err := realMain(context.Background(), path, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "deploysummary:", err)
		os.Exit(1)
	}
}

// SecretCheck says whether a secret exists: "exists", "MISSING", or why
// it was not checked.
type SecretCheck func(ctx context.Context, name string) string

func realMain(ctx context.Context, path string, w io.Writer) error {
	f, err := job.LoadFile(path)
	if err != nil {
		return err
	}
	return summarize(ctx, path, f, awsSecretCheck(ctx), w)
}

// awsSecretCheck checks secrets in Secrets Manager when credentials are
// at hand, else says they were not checked.
func awsSecretCheck(ctx context.Context) SecretCheck {
	if !credentialsAtHand() {
		return func(context.Context, string) string { return "not checked (no AWS credentials)" }
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(cctx)
	if err == nil {
		_, err = cfg.Credentials.Retrieve(cctx)
	}
	if err != nil || cfg.Region == "" {
		return func(context.Context, string) string { return "not checked (no AWS credentials or region)" }
	}
	sm := secretsmanager.NewFromConfig(cfg)
	return func(ctx context.Context, name string) string {
		_, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
		var nf *smtypes.ResourceNotFoundException
		switch {
		case err == nil:
			return "exists in " + cfg.Region
		case errors.As(err, &nf):
			return "MISSING in " + cfg.Region + ": create it before the first run"
		default:
			return "not checked: " + err.Error()
		}
	}
}

// summarize writes the summary of jobs file f (at path).
func summarize(ctx context.Context, path string, f *job.File, check SecretCheck, w io.Writer) error {
	fmt.Fprintf(w, "Deploy summary of %s\n\nJobs and their schedules (EventBridge Scheduler; edits made there are kept by deploys):\n", path)
	secrets := map[string][]string{}
	var warnings []string
	push := false
	for i := range f.Jobs {
		j := &f.Jobs[i]
		sched := j.Schedule.Describe()
		if !j.IsEnabled() {
			sched += " (disabled: no schedule)"
		}
		fmt.Fprintf(w, "  %-20s %-7s %s\n", j.ID, j.Server.Protocol, sched)
		secrets[j.Server.Auth.Secret] = append(secrets[j.Server.Auth.Secret], j.ID)
		if j.Server.Protocol == job.Graph && j.Push.Enabled {
			push = true
		}
		switch j.Server.Security {
		case job.SecurityNone:
			warnings = append(warnings, fmt.Sprintf("job %s: security: none sends the password and mail in plain text to %s", j.ID, j.Server.Host))
		case job.SecuritySTARTTLSIfAvailable:
			warnings = append(warnings, fmt.Sprintf("job %s: security: starttls-if-available falls back to plain text when %s does not offer STARTTLS", j.ID, j.Server.Host))
		}
		if loopback(j.Server.Host) {
			warnings = append(warnings, fmt.Sprintf("job %s: host %s is a loopback address: from Lambda it is the function itself, not your mail server", j.ID, j.Server.Host))
		}
	}
	names := make([]string, 0, len(secrets))
	for n := range secrets {
		if n != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	fmt.Fprintln(w, "\nSecrets that must exist in Secrets Manager:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-30s %s (jobs %s)\n", n, check(ctx, n), strings.Join(secrets[n], ", "))
	}
	if push {
		fmt.Fprintln(w, "\nGraph push: after the deploy, the stack output WebhookUrl is the webhook's URL (Graph posts to <url>notify); `connector oauth link JOB --url <url>`.")
	}
	if len(warnings) > 0 {
		fmt.Fprintln(w, "\nWarnings:")
		for _, s := range warnings {
			fmt.Fprintln(w, "  WARNING: "+s)
		}
	}
	return nil
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// credentialsAtHand reports whether AWS credentials are configured: in
// the environment or in ~/.aws. It does not ask the instance metadata
// service, which a laptop does not have.
func credentialsAtHand() bool {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return false
	}
	for _, f := range []string{"credentials", "config"} {
		if _, err := os.Stat(filepath.Join(home, ".aws", f)); err == nil {
			return true
		}
	}
	return false
}
