package main

import (
	"fmt"
	"net/mail"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The CDK context keys the app reads (cdk.json "context", or -c KEY=VALUE).
const (
	ctxStackName         = "stackName"
	ctxJobsFile          = "jobsFile"
	ctxSenderAddress     = "senderAddress"
	ctxLedgerTTLDays     = "ledgerTtlDays"
	ctxRunTTLDays        = "runTtlDays"
	ctxAllowMissingBuild = "allowMissingBuild"
	ctxResetSchedules    = "resetSchedules"
)

// retiredRetentionKeys are context keys that set the bucket's expiration
// before the jobs file did (retention), with the field that took over.
var retiredRetentionKeys = [][2]string{{"rawMailDays", "rawDays"}, {"retainDays", "normalizedDays"}}

// Defaults for the context keys.
const (
	defaultStackName     = "MailConnector"
	defaultJobsFile      = "events/jobs.example.yaml"
	defaultLedgerTTLDays = 90
	defaultRunTTLDays    = 30
)

// stackNamePattern is CloudFormation's stack name, short enough to prefix
// queue (80 characters), alarm and dashboard names.
var stackNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,59}$`)

// Config is everything the stack is built from.
type Config struct {
	// StackName of the CloudFormation stack (context stackName).
	StackName string
	// RepoRoot is the repository root; JobsFile and BuildDir are relative to it.
	RepoRoot string
	// JobsFile is the jobs file (context jobsFile).
	JobsFile string
	// BuildDir holds <function>/bootstrap from `make build`; default RepoRoot/build.
	BuildDir string
	// SenderAddress is the address the rules function sends notices from
	// (context senderAddress); "" sends none.
	SenderAddress string
	// LedgerTTLDays and RunTTLDays are passed to the functions.
	LedgerTTLDays int
	RunTTLDays    int
	// AllowMissingBuild lets synth use placeholder function code when
	// build/<function>/bootstrap is missing. For tests only.
	AllowMissingBuild bool
	// ResetSchedules puts the jobs file's schedule back over edits made
	// in EventBridge (context resetSchedules): job ids separated by
	// commas, or all.
	ResetSchedules string
	// StagingDir is where function assets are staged (a directory the app
	// owns, normally inside the cloud assembly).
	StagingDir string
	// Now is the synth time, for schedule start and end dates.
	Now time.Time
}

// configFromContext reads the Config from the CDK context of scope.
func configFromContext(scope constructs.Construct, repoRoot string) (Config, error) {
	c := Config{RepoRoot: repoRoot, Now: time.Now()}
	get := func(key string) (string, bool) {
		v := scope.Node().TryGetContext(jsii.String(key))
		if v == nil {
			return "", false
		}
		s := strings.TrimSpace(fmt.Sprint(v))
		return s, s != ""
	}
	days := func(key string, def int) (int, error) {
		s, ok := get(key)
		if !ok {
			return def, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 36500 {
			return 0, fmt.Errorf("context %s: %q is not a whole number of days between 1 and 36500", key, s)
		}
		return n, nil
	}
	var err error
	c.StackName = defaultStackName
	if s, ok := get(ctxStackName); ok {
		if !stackNamePattern.MatchString(s) {
			return c, fmt.Errorf("context %s: %q is not a stack name (a letter, then letters, digits and hyphens; at most 60)", ctxStackName, s)
		}
		c.StackName = s
	}
	c.JobsFile = defaultJobsFile
	if s, ok := get(ctxJobsFile); ok {
		c.JobsFile = s
	}
	if !filepath.IsAbs(c.JobsFile) {
		c.JobsFile = filepath.Join(repoRoot, c.JobsFile)
	}
	c.BuildDir = filepath.Join(repoRoot, "build")
	for _, k := range retiredRetentionKeys {
		if _, ok := get(k[0]); ok {
			return c, fmt.Errorf("context %s: retention is set in the jobs file now, for the bucket and `connector prune` alike: defaults.retention.%s (every job) or retention.%s (one job)", k[0], k[1], k[1])
		}
	}
	if c.LedgerTTLDays, err = days(ctxLedgerTTLDays, defaultLedgerTTLDays); err != nil {
		return c, err
	}
	if c.RunTTLDays, err = days(ctxRunTTLDays, defaultRunTTLDays); err != nil {
		return c, err
	}
	if s, ok := get(ctxSenderAddress); ok {
		a, err := mail.ParseAddress(s)
		if err != nil || a.Name != "" {
			return c, fmt.Errorf("context %s: %q is not a bare e-mail address", ctxSenderAddress, s)
		}
		c.SenderAddress = a.Address
	}
	c.ResetSchedules, _ = get(ctxResetSchedules)
	if s, ok := get(ctxAllowMissingBuild); ok {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return c, fmt.Errorf("context %s: %q is not true or false", ctxAllowMissingBuild, s)
		}
		c.AllowMissingBuild = b
	}
	return c, nil
}
