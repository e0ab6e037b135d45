// Command benchmark measures the local pipeline against a private Dovecot,
// beside mbsync downloading the same mailbox: fetch-stage throughput,
// end-to-end throughput to stored requests, the wall time of a run that
// finds nothing new, and the connector's peak RSS. It is what `make bench`
// runs; the figures go to standard output. With -aws it prices the
// deployed pipeline instead (aws.go): the AWS calls and billed units per
// message and per idle run, measured on moto, at us-east-1 prices.
//
//	go run ./cmd/benchmark [-n 10000] [-large 30MB] [-seed 1] [-history 100000]
//	go run ./cmd/benchmark -scale 1000,10000,50000 [-seed 1]
//	go run ./cmd/benchmark -aws [-n 100] [-seed 1]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"mailconnector/shared/job"
	"mailconnector/shared/mailgen"
	"mailconnector/shared/testkit/dovecottest"
)

func main() {
	if err := realMain(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "benchmark:", err)
		os.Exit(1)
	}
}

const (
	user     = "bench"
	password = "bench-password"
)

func realMain(ctx context.Context) error {
	n := flag.Int("n", 10000, "messages in the mailbox")
	seed := flag.Int64("seed", 1, "generator seed")
	largeFlag := flag.String("large", "30MB", "size of one extra message's attachment (0: none), to show memory stays bounded")
	keep := flag.Bool("keep", false, "keep the work directory")
	history := flag.Int("history", 0, "also run end to end on a state that already holds this many earlier messages and requests")
	profile := flag.String("profile", "", "write CPU profiles of the fetch and end-to-end runs to this directory")
	awsMode := flag.Bool("aws", false, "price the deployed pipeline: its AWS calls per message and per idle run on moto, at us-east-1 prices")
	scale := flag.String("scale", "", "instead of the comparison, run end to end on mailboxes of these sizes (comma-separated, e.g. 1000,10000,50000), each in a fresh state")
	flag.Parse()
	if *awsMode {
		return runAWS(ctx, *n, *seed, *keep)
	}
	large, err := job.ParseSize(*largeFlag)
	if err != nil {
		return err
	}

	work, err := os.MkdirTemp("", "connector-bench-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(work)
	}
	bin := filepath.Join(work, "connector")
	build := exec.Command("go", "build", "-o", bin, "./cmd/connector")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build links it
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build connector: %v\n%s", err, out)
	}

	srv, err := dovecottest.StartProcess(nil)
	if err != nil {
		return err
	}
	defer srv.Stop()
	if *scale != "" {
		return runScale(ctx, bin, work, srv, *scale, *seed, *keep)
	}
	fmt.Printf("Mail Connector benchmark: %d messages (+1 with a %s attachment), work directory %s\n", *n, *largeFlag, work)
	if err := addUser(ctx, srv, user); err != nil {
		return err
	}

	start := time.Now()
	total, err := seedMailbox(srv, user, *n, *seed)
	if err != nil {
		return err
	}
	count := *n
	if large > 0 {
		var buf bytes.Buffer
		if err := mailgen.WriteLarge(&buf, large, *seed); err != nil {
			return err
		}
		total += int64(buf.Len())
		count++
		if err := srv.DeliverMany(user, "INBOX", [][]byte{buf.Bytes()}); err != nil {
			return err
		}
	}
	mb := float64(total) / (1 << 20)
	fmt.Printf("seeded %d messages, %.1f MB, in %s\n\n", count, mb, time.Since(start).Round(time.Millisecond))

	jobsFile := filepath.Join(work, "jobs.yaml")
	if err := writeJobs(jobsFile, srv, user); err != nil {
		return err
	}
	env := userEnv(user)

	// mbsync first: it only reads, so the connector sees the same mailbox.
	mbsync, err := runMbsync(ctx, work, srv)
	if err != nil {
		fmt.Printf("mbsync: %v\n", err)
	}

	fetchState := filepath.Join(work, "state-fetch")
	prof := func(name string) []string {
		if *profile == "" {
			return env
		}
		return append(append([]string{}, env...), "CONNECTOR_CPUPROFILE="+filepath.Join(*profile, name+".prof"))
	}
	fetchRun, err := runConnector(ctx, bin, prof("fetch"), "run", "--once", "--fetch-only", "--jobs", jobsFile, "--state", fetchState)
	if err != nil {
		return fmt.Errorf("fetch-only run: %w", err)
	}
	e2eState := filepath.Join(work, "state-e2e")
	e2eRun, err := runConnector(ctx, bin, prof("e2e"), "run", "--once", "--jobs", jobsFile, "--state", e2eState)
	if err != nil {
		return fmt.Errorf("end-to-end run: %w", err)
	}
	var histRun measure
	var histFill time.Duration
	if *history > 0 {
		histState := filepath.Join(work, "state-history")
		start := time.Now()
		if err := fillHistory(ctx, histState, "bench", *history); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		histFill = time.Since(start)
		if histRun, err = runConnector(ctx, bin, env, "run", "--once", "--jobs", jobsFile, "--state", histState); err != nil {
			return fmt.Errorf("end-to-end run on the history: %w", err)
		}
	}
	var idle []measure
	for i := 0; i < 5; i++ {
		m, err := runConnector(ctx, bin, env, "run", "--once", "--jobs", jobsFile, "--state", e2eState)
		if err != nil {
			return fmt.Errorf("nothing-new run: %w", err)
		}
		idle = append(idle, m)
	}
	best := bestOf(idle)
	// fetchmail --check on the same mailbox, all of it seen by now: the
	// reference for a run that finds nothing new.
	var fmCheck []measure
	for i := 0; i < 5; i++ {
		m, err := runFetchmailCheck(ctx, work, srv)
		if err != nil {
			fmt.Printf("fetchmail: %v\n", err)
			break
		}
		fmCheck = append(fmCheck, m)
	}
	reqs, err := exec.Command(bin, "requests", "--state", e2eState, "--limit", "1").Output()
	if err != nil {
		return fmt.Errorf("list requests: %w", err)
	}

	tableHead()
	row := func(name string, m measure) { tableRow(name, count, mb, m) }
	if mbsync.wall > 0 {
		row("mbsync (reference)", mbsync)
	}
	row("connector fetch stage", fetchRun)
	row("connector end to end (fetch + preprocess + rules + requests)", e2eRun)
	if *history > 0 {
		row(fmt.Sprintf("connector end to end, the state already holding %d messages and requests (written in %s)", *history, histFill.Round(time.Second)), histRun)
	}
	if len(fmCheck) > 0 {
		fm := bestOf(fmCheck)
		fmt.Printf("| fetchmail --check, nothing new (reference, best of %d) | - | - | %s | %.1f MB | %.1f MB |\n",
			len(fmCheck), fm.wall.Round(time.Millisecond), float64(fm.maxRSS)/(1<<20), float64(fm.maxAnon)/(1<<20))
	}
	fmt.Printf("| connector run with nothing new (best of 5, whole process) | - | - | %s | %.1f MB | %.1f MB |\n",
		best.wall.Round(time.Millisecond), float64(best.maxRSS)/(1<<20), float64(best.maxAnon)/(1<<20))
	if d := runDuration(best.out); d != "" {
		fmt.Printf("| connector run with nothing new (the run itself) | - | - | %s | - | - |\n", d)
	}
	if mbsync.wall > 0 {
		fmt.Printf("\nfetch stage / mbsync: %.2f×   end to end / mbsync: %.2f×\n",
			mbsync.wall.Seconds()/fetchRun.wall.Seconds(), mbsync.wall.Seconds()/e2eRun.wall.Seconds())
	}
	fmt.Printf("\nnewest request after the run:\n%s", reqs)
	return nil
}

type measure struct {
	wall    time.Duration
	maxRSS  int64 // bytes: VmHWM, anonymous and file-backed pages
	maxAnon int64 // bytes: the largest RssAnon seen (heap, stacks)
	out     string
}

func runConnector(ctx context.Context, bin string, env []string, args ...string) (measure, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = io.Discard
	m, err := timed(cmd)
	m.out = out.String()
	// Exit status 1 is "nothing new" (connector run --once's exit codes).
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 && strings.Contains(m.out, "fetched 0 ") {
		err = nil
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out.String())
	}
	return m, nil
}

// timed runs cmd and measures its wall time and peak RSS. The peak is read
// from /proc/PID/status (VmHWM) while it runs: the rusage of a child counts
// the parent's memory from before exec.
func timed(cmd *exec.Cmd) (measure, error) {
	// Whatever earlier steps left dirty (the seeded mailbox: 7 GB for
	// 50,000 messages; the last run's state and blobs) is written out
	// first, so that the kernel's writeback of it does not run during,
	// and get counted against, this command.
	syscall.Sync()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return measure{}, err
	}
	done := make(chan struct{})
	peak := make(chan int64, 1)
	anon := make(chan int64, 1)
	go func() {
		var max, maxAnon int64
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if b, err := os.ReadFile(status); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
						var kb int64
						fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
						if kb*1024 > maxAnon {
							maxAnon = kb * 1024
						}
					}
					if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
						var kb int64
						fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
						if kb*1024 > max {
							max = kb * 1024
						}
					}
				}
			}
			select {
			case <-done:
				peak <- max
				anon <- maxAnon
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	return measure{wall: time.Since(start), maxRSS: <-peak, maxAnon: <-anon}, err
}

// runDuration reads the run's own duration from the first run line that
// `connector run` prints ("run ID of job J (T): ok in 3.2ms — ...").
func runDuration(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "run ") {
			continue
		}
		_, rest, ok := strings.Cut(line, " in ")
		if !ok {
			continue
		}
		d, _, _ := strings.Cut(rest, " ")
		return d
	}
	return ""
}

func runMbsync(ctx context.Context, work string, srv *dovecottest.Server) (measure, error) {
	path, err := exec.LookPath("mbsync")
	if err != nil {
		return measure{}, errors.New("not installed (apt-get install isync); no reference figure")
	}
	local := filepath.Join(work, "mbsync-maildir")
	if err := os.MkdirAll(local, 0o700); err != nil {
		return measure{}, err
	}
	cfg := filepath.Join(work, "mbsyncrc")
	conf := fmt.Sprintf(`IMAPAccount bench
Host %s
Port %d
User %s
Pass %s
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path %s/
Inbox %s/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
`, srv.Host, srv.Port(dovecottest.IMAP), user, password, local, local)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return measure{}, err
	}
	cmd := exec.CommandContext(ctx, path, "-c", cfg, "-q", "bench")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	m, err := timed(cmd)
	m.out = out.String()
	if err != nil {
		return measure{}, fmt.Errorf("%v: %s", err, out.String())
	}
	return m, nil
}

// bestOf is the measure with the shortest wall time.
func bestOf(ms []measure) measure {
	best := ms[0]
	for _, m := range ms {
		if m.wall < best.wall {
			best = m
		}
	}
	return best
}

// runFetchmailCheck times `fetchmail --check` against the benchmark's
// mailbox: log in, select INBOX, look for unseen mail, log out. Exit 1
// is "no mail", as wanted here.
func runFetchmailCheck(ctx context.Context, work string, srv *dovecottest.Server) (measure, error) {
	path, err := exec.LookPath("fetchmail")
	if err != nil {
		return measure{}, errors.New("not installed (apt-get install fetchmail); no reference figure")
	}
	home := filepath.Join(work, "fetchmail")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return measure{}, err
	}
	rc := filepath.Join(home, "fetchmailrc")
	conf := fmt.Sprintf("poll %s protocol IMAP service %d auth password\n  user %q password %q folder INBOX sslproto ''\n",
		srv.Host, srv.Port(dovecottest.IMAP), user, password)
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		return measure{}, err
	}
	cmd := exec.CommandContext(ctx, path, "--check", "--fetchmailrc", rc, "--nosyslog", "--silent")
	cmd.Env = append(os.Environ(), "FETCHMAILHOME="+home)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	m, err := timed(cmd)
	m.out = out.String()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		err = nil
	}
	if err != nil {
		return measure{}, fmt.Errorf("%v: %s", err, out.String())
	}
	return m, nil
}

// tableHead prints the head of the one table every row goes to.
func tableHead() {
	fmt.Println("| measure | messages/s | MB/s | wall | peak RSS | of it anonymous |")
	fmt.Println("|---|---|---|---|---|---|")
}

// tableRow prints the row of a run over count messages of mb megabytes.
func tableRow(name string, count int, mb float64, m measure) {
	fmt.Printf("| %s | %.0f | %.1f | %s | %.1f MB | %.1f MB |\n", name, float64(count)/m.wall.Seconds(), mb/m.wall.Seconds(),
		m.wall.Round(time.Millisecond), float64(m.maxRSS)/(1<<20), float64(m.maxAnon)/(1<<20))
}

// seedMailbox delivers n generated messages (mailgen's mix, seed) to the
// user's INBOX in chunks, so the generator never holds the mailbox whole,
// and returns their size in bytes.
func seedMailbox(srv *dovecottest.Server, name string, n int, seed int64) (int64, error) {
	var total int64
	var chunk [][]byte
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		err := srv.DeliverMany(name, "INBOX", chunk)
		chunk = chunk[:0]
		return err
	}
	err := mailgen.Generate(n, &mailgen.Options{Seed: seed, Domain: "bench.example"}, func(_ int, m mailgen.Message) error {
		total += int64(len(m.Raw))
		chunk = append(chunk, m.Raw)
		if len(chunk) == 200 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return 0, fmt.Errorf("seed mailbox of %s: %w", name, err)
	}
	return total, nil
}

// writeJobs writes a jobs file with one job, named as the mailbox user,
// that reads the user's INBOX over IMAP with no limit in the way.
func writeJobs(path string, srv *dovecottest.Server, name string) error {
	return os.WriteFile(path, []byte(fmt.Sprintf(`jobs:
  - id: %s
    server:
      protocol: imap
      host: %s
      port: %d
      security: none
      auth: {method: password, secret: %s}
    incoming: {onSuccess: markRead}
    limits:
      maxMessagesPerRun: 1000000
      maxMessageSize: 1GB
      maxRunTime: 15m
      batchSize: 200
`, name, srv.Host, srv.Port(dovecottest.IMAP), name)), 0o600)
}

// userEnv is the connector's environment with the user's secret (its
// name is the user's) among the local secrets.
func userEnv(name string) []string {
	return append(os.Environ(), fmt.Sprintf(`CONNECTOR_SECRET_%s={"username":%q,"password":%q}`, strings.ToUpper(name), name, password))
}

// addUser adds a mailbox user (every user has the one password) and waits
// until Dovecot signs it in.
func addUser(ctx context.Context, srv *dovecottest.Server, name string) error {
	if err := srv.AddUser(name, password); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := srv.Doveadm(ctx, "auth", "test", name, password)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
