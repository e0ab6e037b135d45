// Package dovecottest runs a private Dovecot (IMAP4rev1 and POP3) for tests.
//
// Each Server has its own configuration file, runtime directory, log, users
// (a passwd-file each) and Maildir store in a temporary directory; it listens on
// 127.0.0.1 on ports chosen at run time and never touches the system's
// Dovecot configuration. With Options.TLS it offers STARTTLS (RFC 3501
// section 6.2.1) and STLS (RFC 2595 section 4) on the plain ports and listens
// for implicit TLS on the imaps and pop3s ports, with a certificate signed
// by a test CA generated in Go (see CAFile). Without it, ssl = no: no
// STARTTLS is offered, which lets clients test their fallback.
//
// Options.NTLM offers SASL NTLM (SPA) through Dovecot's helper-based NTLM
// mechanism, the only one Dovecot 2.3.13 and later have (ntlm.go);
// Options.OAuth2IntrospectionURL offers XOAUTH2 and OAUTHBEARER through
// Dovecot's oauth2 passdb, pointed at a local OAuthServer (oauth.go),
// which also issues the tokens: client credentials and rotating refresh
// tokens.
//
// Mail is seeded by writing Maildir files directly (Deliver), which seeds
// ten thousand messages in well under a second, and read back for
// assertions with doveadm (Messages), a path independent of any IMAP or POP3
// client under test.
//
// Dovecot comes from Debian packages; when it is missing, Start fails with
// the command that installs it: bash scripts/deps.sh.
package dovecottest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binaries Dovecot is run from.
var (
	DovecotPath = "/usr/sbin/dovecot"
	DoveadmPath = "/usr/bin/doveadm"
)

// InstallHint is the command that installs Dovecot for the tests.
const InstallHint = "bash scripts/deps.sh"

// ErrNotInstalled means the dovecot binary was not found.
var ErrNotInstalled = errors.New("dovecottest: dovecot is not installed (run `" + InstallHint + "` from the repository root)")

// Kind names a listener.
type Kind string

// The listeners. IMAPS and POP3S exist only with Options.TLS.
const (
	IMAP  Kind = "imap"  // 143-style, STARTTLS offered when TLS
	IMAPS Kind = "imaps" // implicit TLS
	POP3  Kind = "pop3"  // 110-style, STLS offered when TLS
	POP3S Kind = "pop3s" // implicit TLS
)

// Options configure a Server. A nil *Options means the zero value (no TLS).
type Options struct {
	// TLS turns on ssl: STARTTLS/STLS on the plain ports and the implicit
	// TLS listeners. Without it Dovecot runs with ssl = no.
	TLS bool
	// Config is appended to the generated configuration file (for example
	// "imap_capability = IMAP4rev1 UIDPLUS" to hide MOVE).
	Config string
	// NTLM offers the SASL NTLM mechanism (SPA). Dovecot checks NTLMv2
	// responses against the NT hash of the password: AddUserNTLM stores
	// only that hash ({NTLM} scheme), as an administrator would.
	NTLM bool
	// OAuth2IntrospectionURL, when set, offers XOAUTH2 and OAUTHBEARER,
	// checked by Dovecot's oauth2 passdb against this token introspection
	// endpoint (RFC 7662, POST token=...; the answer's "active" must be
	// true and its "username" the user signing in). OAuthServer.
	// IntrospectionURL is one.
	OAuth2IntrospectionURL string
}

// Server is a running private Dovecot.
type Server struct {
	// Host is the address every listener is bound to (127.0.0.1).
	Host string

	opts    Options
	dir     string
	conf    string
	logPath string
	ports   map[Kind]int
	caPEM   []byte
	mailUID int
	mailGID int

	cmd     *exec.Cmd
	waitErr chan error

	mu      sync.Mutex
	users   map[string]bool
	dirs    map[string]bool
	seq     int64
	stopped bool
	base    int64
}

// Start starts a Server for one test and stops it in tb.Cleanup. It fails
// the test (never skips) when Dovecot cannot start.
func Start(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	s, err := StartProcess(opts)
	if err != nil {
		tb.Fatalf("start dovecot: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("stop dovecot: %v", err)
		}
	})
	return s
}

// StartProcess starts a Server; the caller must call Stop. It suits
// TestMain and benchmarks.
func StartProcess(opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	if _, err := os.Stat(DovecotPath); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotInstalled, DovecotPath, errors.Unwrap(err))
	}
	// A short path: Dovecot's unix sockets live under base_dir and
	// socket paths are limited to about 100 bytes.
	dir, err := os.MkdirTemp(tempRoot(), "dovecottest")
	if err != nil {
		return nil, fmt.Errorf("dovecottest: make temp dir: %w", err)
	}
	s := &Server{Host: "127.0.0.1", opts: *opts, dir: dir, users: map[string]bool{}, dirs: map[string]bool{}, base: time.Now().Unix()}
	if err := s.prepare(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if lastErr = s.launch(); lastErr == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// tempRoot prefers /dev/shm: creating files on tmpfs is many times faster
// than on a disk, which matters when seeding thousands of messages.
func tempRoot() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "dovecottest-probe"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// prepare writes the certificates, the passwd-file and the directories.
func (s *Server) prepare() error {
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return fmt.Errorf("dovecottest: chmod %s: %w", s.dir, err)
	}
	s.mailUID, s.mailGID = os.Getuid(), os.Getgid()
	if os.Getuid() == 0 {
		// Dovecot refuses to run mail processes as root ("userdb returned
		// 0 as uid"): the mail store belongs to nobody.
		s.mailUID, s.mailGID = 65534, 65534
		if u, err := user.Lookup("nobody"); err == nil {
			s.mailUID, _ = strconv.Atoi(u.Uid)
			s.mailGID, _ = strconv.Atoi(u.Gid)
		}
	}
	for _, d := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o755); err != nil {
			return fmt.Errorf("dovecottest: make %s: %w", d, err)
		}
	}
	if err := s.chown(filepath.Join(s.dir, "mail")); err != nil {
		return err
	}
	if err := os.MkdirAll(s.usersDir(), 0o755); err != nil {
		return fmt.Errorf("dovecottest: make users dir: %w", err)
	}
	s.logPath = filepath.Join(s.dir, "dovecot.log")
	if u := s.opts.OAuth2IntrospectionURL; u != "" {
		conf := "introspection_mode = post\nintrospection_url = " + u + "\nforce_introspection = yes\n" +
			"username_attribute = username\nusername_format = %u\nactive_attribute = active\nactive_value = true\ntimeout_msecs = 5000\n"
		if err := os.WriteFile(filepath.Join(s.dir, "oauth2.conf.ext"), []byte(conf), 0o644); err != nil {
			return fmt.Errorf("dovecottest: write oauth2 config: %w", err)
		}
	}
	if s.opts.NTLM {
		if err := s.installNTLMHelper(); err != nil {
			return err
		}
	}
	if s.opts.TLS {
		ca, cert, key, err := makeCerts()
		if err != nil {
			return err
		}
		s.caPEM = ca
		for name, b := range map[string][]byte{"ca.pem": ca, "server.pem": cert, "server.key": key} {
			if err := os.WriteFile(filepath.Join(s.dir, name), b, 0o644); err != nil {
				return fmt.Errorf("dovecottest: write %s: %w", name, err)
			}
		}
	}
	return nil
}

func (s *Server) usersDir() string { return filepath.Join(s.dir, "users") }

func (s *Server) chown(path string) error {
	if os.Getuid() != 0 {
		return nil
	}
	if err := os.Lchown(path, s.mailUID, s.mailGID); err != nil {
		return fmt.Errorf("dovecottest: chown %s: %w", path, err)
	}
	return nil
}

// freePorts returns n distinct ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("dovecottest: find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// launch writes the configuration with fresh ports and starts the master
// process in the foreground (-F), waiting until every listener accepts.
func (s *Server) launch() error {
	kinds := []Kind{IMAP, POP3}
	if s.opts.TLS {
		kinds = append(kinds, IMAPS, POP3S)
	}
	ports, err := freePorts(len(kinds))
	if err != nil {
		return err
	}
	s.ports = map[Kind]int{}
	for i, k := range kinds {
		s.ports[k] = ports[i]
	}
	s.conf = filepath.Join(s.dir, "dovecot.conf")
	if err := os.WriteFile(s.conf, []byte(s.config()), 0o644); err != nil {
		return fmt.Errorf("dovecottest: write config: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(s.dir, "stderr.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("dovecottest: open stderr log: %w", err)
	}
	cmd := exec.Command(DovecotPath, "-F", "-c", s.conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("dovecottest: run %s: %w", DovecotPath, err)
	}
	s.cmd = cmd
	s.waitErr = make(chan error, 1)
	go func() {
		s.waitErr <- cmd.Wait()
		logf.Close()
	}()
	deadline := time.Now().Add(15 * time.Second)
	for _, k := range kinds {
		for {
			c, err := net.DialTimeout("tcp", s.Addr(k), time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case werr := <-s.waitErr:
				s.waitErr <- werr
				s.cmd = nil
				return fmt.Errorf("dovecottest: dovecot exited at start (%v)%s", werr, s.failureTail())
			default:
			}
			if time.Now().After(deadline) {
				s.kill()
				return fmt.Errorf("dovecottest: %s port %d did not accept connections in 15s%s", k, s.ports[k], s.failureTail())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

func (s *Server) config() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("# generated by dovecottest: a private instance for tests")
	w("base_dir = %s", filepath.Join(s.dir, "run"))
	w("state_dir = %s", filepath.Join(s.dir, "state"))
	w("log_path = %s", s.logPath)
	w("info_log_path = %s", s.logPath)
	w("instance_name = dovecottest-%s", filepath.Base(s.dir))
	w("protocols = imap pop3")
	w("listen = %s", s.Host)
	w("shutdown_clients = yes")
	if s.opts.TLS {
		w("ssl = yes")
		w("ssl_cert = <%s", filepath.Join(s.dir, "server.pem"))
		w("ssl_key = <%s", filepath.Join(s.dir, "server.key"))
		w("ssl_min_protocol = TLSv1.2")
	} else {
		w("ssl = no")
	}
	w("disable_plaintext_auth = no")
	mechs := "plain login"
	if s.opts.NTLM {
		mechs += " ntlm"
	}
	if s.opts.OAuth2IntrospectionURL != "" {
		mechs += " xoauth2 oauthbearer"
	}
	w("auth_mechanisms = %s", mechs)
	if s.opts.NTLM {
		// Dovecot's NTLM mechanism asks a helper (see ntlm.go).
		w("auth_use_winbind = yes")
		w("auth_winbind_helper_path = %s", s.ntlmHelperPath())
		w("import_environment = TZ CORE_OUTOFMEM CORE_ERROR LISTEN_PID LISTEN_FDS %s=%s", helperEnv, s.ntlmDir())
		// The helper is a Go binary: its runtime reserves more address
		// space than the auth process's default 256 MB limit allows.
		w("default_vsz_limit = 0")
	}
	w("auth_failure_delay = 0")
	w("auth_cache_size = 0")
	w("mail_max_userip_connections = 1000")
	w("mail_fsync = never")
	w("mailbox_list_index = no")
	w("mail_location = maildir:~/Maildir")
	w("namespace inbox {\n  inbox = yes\n  separator = .\n  prefix =\n}")
	if s.opts.OAuth2IntrospectionURL != "" {
		// Password mechanisms check the passwd-file, the OAuth ones the
		// introspection endpoint (and never the other way round).
		w("passdb {\n  driver = passwd-file\n  mechanisms = none %s\n  args = scheme=PLAIN username_format=%%u %s/%%u\n}", strings.TrimSuffix(strings.TrimSuffix(mechs, " xoauth2 oauthbearer"), " ntlm"), s.usersDir())
		w("passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = %s\n}", filepath.Join(s.dir, "oauth2.conf.ext"))
	} else {
		w("passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%%u %s/%%u\n}", s.usersDir())
	}
	w("userdb {\n  driver = static\n  args = uid=%d gid=%d home=%s/%%u\n}", s.mailUID, s.mailGID, filepath.Join(s.dir, "mail"))
	if os.Getuid() == 0 {
		w("first_valid_uid = 1")
		w("first_valid_gid = 1")
		w("default_login_user = dovenull")
		w("default_internal_user = dovecot")
	} else {
		// Running unprivileged: every process runs as the current user.
		name := strconv.Itoa(os.Getuid())
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
		w("first_valid_uid = %d", os.Getuid())
		w("default_login_user = %s", name)
		w("default_internal_user = %s", name)
		w("service auth {\n  user = %s\n}", name)
	}
	// No auth penalty: failed logins from 127.0.0.1 would otherwise slow
	// every later login by seconds (the auth process cannot reach anvil).
	w("service anvil {")
	if os.Getuid() != 0 {
		w("  chroot =")
	}
	w("  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}")
	login := func(svc string, plain, tls Kind) {
		w("service %s {", svc)
		if os.Getuid() != 0 {
			w("  chroot =")
		}
		w("  inet_listener %s {\n    address = %s\n    port = %d\n  }", plain, s.Host, s.ports[plain])
		if s.opts.TLS {
			w("  inet_listener %s {\n    address = %s\n    port = %d\n    ssl = yes\n  }", tls, s.Host, s.ports[tls])
		}
		w("}")
	}
	login("imap-login", IMAP, IMAPS)
	login("pop3-login", POP3, POP3S)
	if s.opts.Config != "" {
		w("%s", s.opts.Config)
	}
	return b.String()
}

// Stop ends Dovecot (SIGTERM to its master PID, SIGKILL to the process
// group after 10s), waits for it and removes the temporary directory.
func (s *Server) Stop() error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	s.mu.Unlock()
	err := s.kill()
	if rerr := os.RemoveAll(s.dir); rerr != nil && err == nil {
		err = fmt.Errorf("dovecottest: remove %s: %w", s.dir, rerr)
	}
	return err
}

func (s *Server) kill() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	pid := s.cmd.Process.Pid
	s.cmd = nil
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("dovecottest: signal pid %d: %w", pid, err)
	}
	select {
	case <-s.waitErr:
	case <-time.After(10 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-s.waitErr
		return fmt.Errorf("dovecottest: pid %d did not stop in 10s; killed%s", pid, s.failureTail())
	}
	// The master stops its children; kill any straggler of its group.
	syscall.Kill(-pid, syscall.SIGKILL)
	return nil
}

// Addr returns host:port of a listener, or "" when it does not exist (the
// TLS listeners without Options.TLS).
func (s *Server) Addr(k Kind) string {
	p, ok := s.ports[k]
	if !ok {
		return ""
	}
	return net.JoinHostPort(s.Host, strconv.Itoa(p))
}

// Port returns the port of a listener, or 0 when it does not exist.
func (s *Server) Port(k Kind) int { return s.ports[k] }

// TLS reports whether the server offers TLS.
func (s *Server) TLS() bool { return s.opts.TLS }

// CAFile is the path of the PEM file of the CA that signed the server
// certificate (for 127.0.0.1, ::1 and localhost); "" without TLS.
func (s *Server) CAFile() string {
	if !s.opts.TLS {
		return ""
	}
	return filepath.Join(s.dir, "ca.pem")
}

// CAPEM returns the CA certificate in PEM; nil without TLS.
func (s *Server) CAPEM() []byte { return s.caPEM }

// Dir is the server's temporary directory.
func (s *Server) Dir() string { return s.dir }

// ConfigFile is the path of the generated dovecot.conf.
func (s *Server) ConfigFile() string { return s.conf }

// LogTail returns the last n lines of Dovecot's log.
func (s *Server) LogTail(n int) string {
	var all []byte
	for _, name := range []string{s.logPath, filepath.Join(s.dir, "stderr.log")} {
		b, _ := os.ReadFile(name)
		all = append(all, b...)
	}
	lines := strings.Split(strings.TrimRight(string(all), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (s *Server) failureTail() string {
	t := s.LogTail(20)
	if t == "" {
		return ""
	}
	return "\ndovecot log (last lines):\n" + t
}

// AddUser adds (or replaces) a user; it may be called at any time. Each
// user has a passwd-file of its own (users/NAME), so a new user can log in
// at once (Dovecot rereads a changed passwd-file at most once a second, so
// a replaced password may take a second to apply). Names may not contain
// ':', '/' or line breaks, passwords no ':' or line breaks.
func (s *Server) AddUser(name, password string) error {
	if name == "" || name[0] == '.' || strings.ContainsAny(name, ":\r\n/") || strings.ContainsAny(password, ":\r\n") {
		return fmt.Errorf("dovecottest: add user %q: name or password has ':', '/' or a line break", name)
	}
	if s.opts.NTLM {
		if err := s.writeNTHash(name, password); err != nil {
			return err
		}
	}
	return s.writeUser(name, "{PLAIN}"+password)
}

// AddUserNTLM adds (or replaces) a user known only by the NT hash of the
// password ({NTLM} scheme, MD4 of the UTF-16 password), as a Windows
// domain knows its users: such a user signs in with SASL NTLM only.
// Options.NTLM must be set.
func (s *Server) AddUserNTLM(name, password string) error {
	if !s.opts.NTLM {
		return fmt.Errorf("dovecottest: add user %q: the server was started without Options.NTLM", name)
	}
	if name == "" || name[0] == '.' || strings.ContainsAny(name, ":\r\n/\\") {
		return fmt.Errorf("dovecottest: add user %q: name has ':', '/', '\\' or a line break", name)
	}
	return s.writeNTHash(name, password)
}

// writeUser writes a user's passwd-file line with the password field pw.
func (s *Server) writeUser(name, pw string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := filepath.Join(s.usersDir(), name)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(name+":"+pw+"::::::\n"), 0o644); err != nil {
		return fmt.Errorf("dovecottest: add user %q: %w", name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("dovecottest: add user %q: %w", name, err)
	}
	s.users[name] = true
	return nil
}

// maildir returns the Maildir++ directory of a folder: INBOX is the root,
// "INBOX.Support" (or "INBOX/Support") is ".INBOX.Support".
func (s *Server) maildir(user, folder string) string {
	root := filepath.Join(s.dir, "mail", user, "Maildir")
	folder = strings.ReplaceAll(folder, "/", ".")
	if folder == "" || strings.EqualFold(folder, "INBOX") {
		return root
	}
	if len(folder) >= 6 && strings.EqualFold(folder[:6], "INBOX.") {
		folder = "INBOX." + folder[6:]
	}
	return filepath.Join(root, "."+folder)
}

// ensureMaildir creates a folder's cur, new and tmp (owned by the mail
// user) if missing.
func (s *Server) ensureMaildir(user, folder string) (string, error) {
	d := s.maildir(user, folder)
	s.mu.Lock()
	known := s.dirs[d]
	s.mu.Unlock()
	if known {
		return d, nil
	}
	if _, err := os.Stat(filepath.Join(d, "tmp")); err == nil {
		s.mu.Lock()
		s.dirs[d] = true
		s.mu.Unlock()
		return d, nil
	}
	root := filepath.Join(s.dir, "mail", user)
	for _, p := range []string{root, filepath.Join(root, "Maildir"), d, filepath.Join(d, "cur"), filepath.Join(d, "new"), filepath.Join(d, "tmp")} {
		if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("dovecottest: make maildir %s: %w", p, err)
		}
		if err := s.chown(p); err != nil {
			return "", err
		}
	}
	if d != filepath.Join(root, "Maildir") {
		mf := filepath.Join(d, "maildirfolder")
		if err := os.WriteFile(mf, nil, 0o600); err != nil {
			return "", fmt.Errorf("dovecottest: make maildir %s: %w", d, err)
		}
		if err := s.chown(mf); err != nil {
			return "", err
		}
	}
	return d, nil
}

// Deliver puts raw into a user's folder ("" or "INBOX" for the inbox;
// "INBOX.Support" or "INBOX/Support" for a subfolder, created if missing)
// as a new, unseen message. It writes the Maildir file directly, so
// messages get UIDs in the order they were delivered when Dovecot next
// looks at the folder. Use CRLF line endings for byte-exact round trips.
func (s *Server) Deliver(user, folder string, raw []byte) error {
	return s.DeliverMany(user, folder, [][]byte{raw})
}

// DeliverMany delivers raws in order, writing files in parallel; it seeds
// ten thousand small messages in about a second.
func (s *Server) DeliverMany(user, folder string, raws [][]byte) error {
	d, err := s.ensureMaildir(user, folder)
	if err != nil {
		return fmt.Errorf("deliver to %s %s: %w", user, folder, err)
	}
	s.mu.Lock()
	first := s.seq + 1
	s.seq += int64(len(raws))
	s.mu.Unlock()
	workers := 4
	if len(raws) < workers {
		workers = len(raws)
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(raws); i += workers {
				// Dovecot assigns UIDs to new files in file name order.
				name := fmt.Sprintf("%d.M%012dP%d.dovecottest", s.base, first+int64(i), os.Getpid())
				if err := s.writeMail(d, name, raws[i]); err != nil {
					errs[w] = fmt.Errorf("dovecottest: deliver to %s %s: %w", user, folder, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// writeMail writes one Maildir file in tmp and renames it into new
// (the Maildir delivery protocol).
func (s *Server) writeMail(dir, name string, raw []byte) error {
	tmp := filepath.Join(dir, "tmp", name)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(raw)
	if err == nil && os.Getuid() == 0 {
		err = f.Chown(s.mailUID, s.mailGID)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "new", name))
}

// Doveadm runs doveadm against this server's configuration and returns its
// standard output.
func (s *Server) Doveadm(ctx context.Context, args ...string) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, DoveadmPath, append([]string{"-c", s.conf}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("dovecottest: doveadm %s: %v: %s%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()), s.failureTail())
	}
	return stdout.Bytes(), nil
}

// SetUIDValidity changes a folder's UIDVALIDITY, as a server does when it
// renumbers a folder (RFC 3501 section 2.3.1.1).
func (s *Server) SetUIDValidity(user, folder string, validity uint32) error {
	_, err := s.Doveadm(context.Background(), "mailbox", "update", "--uid-validity", strconv.FormatUint(uint64(validity), 10), "-u", user, s.folderName(folder))
	return err
}

// UIDValidity reads a folder's UIDVALIDITY.
func (s *Server) UIDValidity(user, folder string) (uint32, error) {
	out, err := s.Doveadm(context.Background(), "-f", "tab", "mailbox", "status", "-u", user, "uidvalidity", s.folderName(folder))
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	fields := strings.Split(lines[len(lines)-1], "\t")
	v, err := strconv.ParseUint(strings.TrimSpace(fields[len(fields)-1]), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("dovecottest: read uidvalidity of %s %s from %q: %w", user, folder, out, err)
	}
	return uint32(v), nil
}

// folderName maps "INBOX/Support" to Dovecot's "INBOX.Support".
func (s *Server) folderName(folder string) string {
	folder = strings.ReplaceAll(folder, "/", ".")
	if folder == "" {
		return "INBOX"
	}
	return folder
}

// Message is a message as Dovecot sees it.
type Message struct {
	Folder    string
	UID       uint32
	MessageID string
	Flags     []string
	Seen      bool
	Deleted   bool
}

// Messages returns every message of a user in every folder, read with
// doveadm fetch, sorted by folder and UID.
func (s *Server) Messages(user string) ([]Message, error) {
	// A user who never logged in and got no mail has no store yet.
	if _, err := os.Stat(filepath.Join(s.dir, "mail", user)); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	out, err := s.Doveadm(context.Background(), "-f", "json", "fetch", "-u", user, "mailbox uid flags hdr.message-id", "ALL")
	if err != nil {
		return nil, err
	}
	var rows []map[string]string
	if len(bytes.TrimSpace(out)) > 0 {
		if err := json.Unmarshal(out, &rows); err != nil {
			return nil, fmt.Errorf("dovecottest: parse doveadm fetch output: %w", err)
		}
	}
	msgs := make([]Message, 0, len(rows))
	for _, r := range rows {
		uid, _ := strconv.ParseUint(r["uid"], 10, 32)
		m := Message{Folder: r["mailbox"], UID: uint32(uid), MessageID: strings.TrimSpace(r["hdr.message-id"])}
		for _, f := range strings.Fields(r["flags"]) {
			m.Flags = append(m.Flags, f)
			switch strings.ToLower(f) {
			case `\seen`:
				m.Seen = true
			case `\deleted`:
				m.Deleted = true
			}
		}
		msgs = append(msgs, m)
	}
	sort.Slice(msgs, func(i, j int) bool {
		if msgs[i].Folder != msgs[j].Folder {
			return msgs[i].Folder < msgs[j].Folder
		}
		return msgs[i].UID < msgs[j].UID
	})
	return msgs, nil
}
