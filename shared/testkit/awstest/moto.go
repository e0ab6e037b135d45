// Package awstest runs a private moto server (python3 -m moto.server) on a
// loopback port for tests of the AWS adapters: DynamoDB, S3, SQS, Secrets
// Manager, EventBridge Scheduler, SNS, SES and Lambda. It starts the server
// on a port chosen at run time, stops it by PID, and gives an aws.Config
// pointed at it with static test credentials.
package awstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region the tests use.
const Region = "us-east-1"

// Moto is a running moto server.
type Moto struct {
	URL     string
	cmd     *exec.Cmd
	logPath string
	script  string
	done    chan struct{}
}

// serverScript runs moto's server as `python3 -m moto.server` does, with
// one difference: DynamoDB requests are served one at a time. moto applies
// a transaction's items without isolation from a concurrent request, while
// DynamoDB's TransactWriteItems is serializable; without the lock a test of
// concurrent conditional writes would test moto, not the adapter. Likewise
// moto's SQS ReceiveMessage checks a message's visibility and marks it
// received without a lock, so two concurrent receivers can both get it
// (SQS hides a received message from other receivers for its visibility
// timeout): each scan of a queue runs under a lock, while the long-poll
// wait between scans stays outside it, so long polls stay concurrent.
// Other services stay concurrent.
const serverScript = `
import os, sys, threading, time
os.environ.setdefault("MOTO_PORT", sys.argv[1])
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs.models import SQSBackend

_receive = SQSBackend.receive_message
_receive_lock = threading.Lock()

def receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names=None):
    end = time.time() + (wait_seconds_timeout or 0)
    while True:
        with _receive_lock:
            got = _receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
        if got or time.time() >= end:
            return got
        time.sleep(0.05)

SQSBackend.receive_message = receive_message

main_app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()

def app(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
        with lock:
            return list(main_app(environ, start_response))
    return main_app(environ, start_response)

run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=True)
`

var counter atomic.Int64

// StartProcess starts a moto server. Stop it with Stop.
func StartProcess() (*Moto, error) {
	py, err := exec.LookPath("python3")
	if err != nil {
		return nil, errors.New("awstest: python3 not found; the AWS adapter tests need python3 with moto[server] 5 (pip install 'moto[server]')")
	}
	if out, err := exec.Command(py, "-c", "import moto.server").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("awstest: python3 cannot import moto.server (%s); install it with: pip install 'moto[server]'", strings.TrimSpace(string(out)))
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(os.TempDir(), fmt.Sprintf("moto-%d-%d.log", os.Getpid(), counter.Add(1)))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("awstest: create log: %w", err)
	}
	script := filepath.Join(os.TempDir(), fmt.Sprintf("moto-%d-%d.py", os.Getpid(), counter.Load()))
	if err := os.WriteFile(script, []byte(serverScript), 0o600); err != nil {
		logf.Close()
		return nil, fmt.Errorf("awstest: write server script: %w", err)
	}
	cmd := exec.Command(py, script, strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("awstest: start moto: %w", err)
	}
	m := &Moto{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, logPath: logPath, script: script, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(m.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(m.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m, nil
			}
		}
		select {
		case <-m.done:
			return nil, fmt.Errorf("awstest: moto exited at start; its log:\n%s", m.logTail())
		default:
		}
		if time.Now().After(deadline) {
			m.Stop()
			return nil, fmt.Errorf("awstest: moto did not answer within 60s; its log:\n%s", m.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Start starts a moto server for one test (or package, through TestMain)
// and stops it when the test ends.
func Start(tb testing.TB) *Moto {
	tb.Helper()
	m, err := StartProcess()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(m.Stop)
	return m
}

// Stop kills the server by its process group and waits for it.
func (m *Moto) Stop() {
	if m.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.done
	}
	os.Remove(m.logPath)
	os.Remove(m.script)
}

// Reset forgets every resource (POST /moto-api/reset).
func (m *Moto) Reset(tb testing.TB) {
	tb.Helper()
	resp, err := http.Post(m.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		tb.Fatalf("awstest: reset moto: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("awstest: reset moto: status %s", resp.Status)
	}
}

// Config returns an AWS config that talks to this server.
func (m *Moto) Config() aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(m.URL),
		HTTPClient:       &http.Client{Timeout: 30 * time.Second},
		RetryMaxAttempts: 3,
	}
}

// Ping checks that the server still answers.
func (m *Moto) Ping(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/moto-api/data.json", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func (m *Moto) logTail() string {
	b, _ := os.ReadFile(m.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("awstest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Main runs a package's tests with one moto server, started before and
// stopped after them: call it from TestMain with the package's variable.
func Main(m *testing.M, moto **Moto) {
	var err error
	if *moto, err = StartProcess(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	(*moto).Stop()
	os.Exit(code)
}
