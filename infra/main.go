// Command infra is the CDK app that deploys Mail Connector (`cdk deploy`
// from the repository root; see cdk.json and the README's Deploy section).
//
// It reads the jobs file named by the CDK context jobsFile (default
// events/jobs.example.yaml, relative to the repository root), validates it
// with the same code the functions use (mailconnector/shared/job), and
// defines the table, the mail bucket, the queues, the functions, one
// EventBridge Scheduler schedule per job, the alert topic, the alarms and
// the dashboard. A bad jobs file fails synth with the job id and field.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	if err := realMain(); err != nil {
		fmt.Fprintln(os.Stderr, "mail connector:", err)
		os.Exit(1)
	}
	closeJSII()
}

func realMain() error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	// The CLI runs in the repository root (where cdk.json is) and passes
	// the cloud assembly directory relative to it; the app runs in infra/.
	if out := os.Getenv("CDK_OUTDIR"); out != "" && !filepath.IsAbs(out) {
		os.Setenv("CDK_OUTDIR", filepath.Join(root, out))
	}
	// Paths in the jobs file (caFile) are relative to the repository root,
	// as for `connector` run there.
	if err := os.Chdir(root); err != nil {
		return fmt.Errorf("enter repository root: %w", err)
	}
	app := awscdk.NewApp(nil)
	cfg, err := configFromContext(app, root)
	if err != nil {
		return err
	}
	cfg.StagingDir = filepath.Join(*app.Outdir(), "connector-staging")
	c, err := NewConnectorStack(app, cfg)
	if err != nil {
		return err
	}
	for _, n := range c.Notes {
		fmt.Fprintln(os.Stderr, "mail connector: note:", n)
	}
	app.Synth(nil)
	return nil
}

// repoRoot finds the repository root: the app runs in infra/ (cdk.json:
// "cd infra && go run ."), or from the root itself.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for _, dir := range []string{filepath.Dir(wd), wd} {
		if _, err := os.Stat(filepath.Join(dir, "infra", "go.mod")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("find repository root: no infra/go.mod in %s or its parent", wd)
}

// relPath shows path relative to root when it lies inside it.
func relPath(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil && filepath.IsLocal(r) {
		return filepath.ToSlash(r)
	}
	return path
}

// spuriousExit is what jsii-runtime-go prints when the jsii kernel (node)
// ends normally: it waits for the process twice (in Close and in a
// watcher goroutine), and with the pidfd-based wait of recent Go the
// second wait fails with ECHILD. Node exited cleanly; the line is noise.
const spuriousExit = "Runtime process exited abnormally: waitid: no child processes"

// closeJSII stops the jsii kernel and drops spuriousExit from stderr.
func closeJSII() {
	r, w, err := os.Pipe()
	if err != nil {
		jsii.Close()
		return
	}
	stderr := os.Stderr
	os.Stderr = w
	done := make(chan struct{})
	go func() {
		defer close(done)
		b, _ := io.ReadAll(r)
		stderr.WriteString(strings.ReplaceAll(string(b), spuriousExit, ""))
	}()
	jsii.Close()
	// The watcher goroutine reports right after node exits.
	time.Sleep(100 * time.Millisecond)
	os.Stderr = stderr
	w.Close()
	<-done
}
