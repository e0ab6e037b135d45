package dovecottest

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"
)

// Dovecot removed its built-in NTLM mechanism in v2.3.13; what remains is
// the NTLM mechanism that hands the NTLMSSP messages to a helper speaking
// Samba's ntlm_auth "squid-2.5-ntlmssp" protocol (auth_use_winbind). With
// Options.NTLM, dovecottest is that helper: Dovecot runs a copy of the test
// binary, which notices helperEnv at init and, instead of running tests,
// answers YR (negotiate) with TT (a challenge) and KK (authenticate) with
// AF user or NA, checking the NTLMv2 response ([MS-NLMP] section 3.3.2)
// against the NT hash AddUser or AddUserNTLM stored. The SASL framing on
// the wire (IMAP AUTHENTICATE NTLM, POP3 AUTH NTLM) is Dovecot's own.

// helperEnv carries the directory of NT hashes to the helper process.
const helperEnv = "DOVECOTTEST_NTLM_HASHES"

func init() {
	dir := os.Getenv(helperEnv)
	if dir == "" || len(os.Args) < 2 || !strings.HasPrefix(os.Args[1], "--helper-protocol=") {
		return
	}
	ntlmHelper(os.Stdin, os.Stdout, dir)
	os.Exit(0)
}

// NTHash is the NT hash of a password: MD4 of its UTF-16LE form
// ([MS-NLMP] section 3.3.1), in hex, as Dovecot's {NTLM} scheme writes it.
func NTHash(password string) string {
	h := md4(utf16le(password))
	return hex.EncodeToString(h[:])
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return b
}

// md4 is RFC 1320 (absent from the standard library, and only the NT hash
// needs it).
func md4(msg []byte) [16]byte {
	a, b, c, d := uint32(0x67452301), uint32(0xefcdab89), uint32(0x98badcfe), uint32(0x10325476)
	n := len(msg)
	pad := append(append([]byte(nil), msg...), 0x80)
	for len(pad)%64 != 56 {
		pad = append(pad, 0)
	}
	var l [8]byte
	binary.LittleEndian.PutUint64(l[:], uint64(n)*8)
	pad = append(pad, l[:]...)
	f := func(x, y, z uint32) uint32 { return x&y | ^x&z }
	g := func(x, y, z uint32) uint32 { return x&y | x&z | y&z }
	h := func(x, y, z uint32) uint32 { return x ^ y ^ z }
	for off := 0; off < len(pad); off += 64 {
		var x [16]uint32
		for i := range x {
			x[i] = binary.LittleEndian.Uint32(pad[off+4*i:])
		}
		aa, bb, cc, dd := a, b, c, d
		for _, i := range []int{0, 4, 8, 12} {
			a = bits.RotateLeft32(a+f(b, c, d)+x[i], 3)
			d = bits.RotateLeft32(d+f(a, b, c)+x[i+1], 7)
			c = bits.RotateLeft32(c+f(d, a, b)+x[i+2], 11)
			b = bits.RotateLeft32(b+f(c, d, a)+x[i+3], 19)
		}
		for _, i := range []int{0, 1, 2, 3} {
			a = bits.RotateLeft32(a+g(b, c, d)+x[i]+0x5a827999, 3)
			d = bits.RotateLeft32(d+g(a, b, c)+x[i+4]+0x5a827999, 5)
			c = bits.RotateLeft32(c+g(d, a, b)+x[i+8]+0x5a827999, 9)
			b = bits.RotateLeft32(b+g(c, d, a)+x[i+12]+0x5a827999, 13)
		}
		for _, i := range []int{0, 2, 1, 3} {
			a = bits.RotateLeft32(a+h(b, c, d)+x[i]+0x6ed9eba1, 3)
			d = bits.RotateLeft32(d+h(a, b, c)+x[i+8]+0x6ed9eba1, 9)
			c = bits.RotateLeft32(c+h(d, a, b)+x[i+4]+0x6ed9eba1, 11)
			b = bits.RotateLeft32(b+h(c, d, a)+x[i+12]+0x6ed9eba1, 15)
		}
		a, b, c, d = a+aa, b+bb, c+cc, d+dd
	}
	var out [16]byte
	for i, v := range []uint32{a, b, c, d} {
		binary.LittleEndian.PutUint32(out[4*i:], v)
	}
	return out
}

// NTLMSSP negotiate flags ([MS-NLMP] section 2.2.2.5).
const (
	flagUnicode     = 0x00000001
	flagRequestTgt  = 0x00000004
	flagNTLM        = 0x00000200
	flagAlwaysSign  = 0x00008000
	flagTargetSrv   = 0x00020000
	flagExtSecurity = 0x00080000
	flagTargetInfo  = 0x00800000
	flag128         = 0x20000000
	flag56          = 0x80000000
)

// The helper is stateless, because Dovecot keeps one helper for all the
// exchanges of an auth process and interleaves them: the server challenge
// is derived from a nonce that travels in the target info, which the
// client copies into its NTLMv2 response blob ([MS-NLMP] section 3.3.2).
const avDNSComputerName = 3

// serverChallenge derives the 8-byte challenge of nonce.
func serverChallenge(key []byte, nonce string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(nonce))
	return mac.Sum(nil)[:8]
}

// challengeMessage builds a CHALLENGE_MESSAGE ([MS-NLMP] section 2.2.1.2)
// with a NetBIOS domain name and the nonce in its target info.
func challengeMessage(challenge []byte, nonce string) []byte {
	name := utf16le("DOVECOTTEST")
	var info bytes.Buffer
	binary.Write(&info, binary.LittleEndian, uint16(2)) // MsvAvNbDomainName
	binary.Write(&info, binary.LittleEndian, uint16(len(name)))
	info.Write(name)
	n := utf16le(nonce)
	binary.Write(&info, binary.LittleEndian, uint16(avDNSComputerName))
	binary.Write(&info, binary.LittleEndian, uint16(len(n)))
	info.Write(n)
	binary.Write(&info, binary.LittleEndian, uint32(0)) // MsvAvEOL
	const header = 48
	var m bytes.Buffer
	m.WriteString("NTLMSSP\x00")
	binary.Write(&m, binary.LittleEndian, uint32(2))
	binary.Write(&m, binary.LittleEndian, uint16(len(name))) // TargetName
	binary.Write(&m, binary.LittleEndian, uint16(len(name)))
	binary.Write(&m, binary.LittleEndian, uint32(header))
	binary.Write(&m, binary.LittleEndian, uint32(flagUnicode|flagRequestTgt|flagNTLM|flagAlwaysSign|flagTargetSrv|flagExtSecurity|flagTargetInfo|flag128|flag56))
	m.Write(challenge)
	m.Write(make([]byte, 8))
	binary.Write(&m, binary.LittleEndian, uint16(info.Len())) // TargetInfo
	binary.Write(&m, binary.LittleEndian, uint16(info.Len()))
	binary.Write(&m, binary.LittleEndian, uint32(header+len(name)))
	m.Write(name)
	m.Write(info.Bytes())
	return m.Bytes()
}

// field reads a security buffer ([MS-NLMP] section 2.2.1.3) at off.
func field(msg []byte, off int) ([]byte, error) {
	if len(msg) < off+8 {
		return nil, errors.New("message too short")
	}
	l := int(binary.LittleEndian.Uint16(msg[off:]))
	at := int(binary.LittleEndian.Uint32(msg[off+4:]))
	if at < 0 || at+l > len(msg) {
		return nil, errors.New("field out of range")
	}
	return msg[at : at+l], nil
}

func fromUTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// nonceOf finds the nonce in the AV pairs of an NTLMv2 response blob
// (after RespType, HiRespType, 6 reserved bytes, the timestamp, the client
// challenge and 4 reserved bytes).
func nonceOf(blob []byte) (string, error) {
	if len(blob) < 28 {
		return "", errors.New("NTLMv2 blob too short")
	}
	av := blob[28:]
	for len(av) >= 4 {
		id, l := binary.LittleEndian.Uint16(av), int(binary.LittleEndian.Uint16(av[2:]))
		if id == 0 || len(av) < 4+l {
			break
		}
		if id == avDNSComputerName {
			return fromUTF16(av[4 : 4+l]), nil
		}
		av = av[4+l:]
	}
	return "", errors.New("no nonce in the NTLMv2 blob")
}

// verifyNTLMv2 checks an AUTHENTICATE_MESSAGE ([MS-NLMP] section 2.2.1.3)
// against the challenge derived from its nonce and returns the user it
// proves.
func verifyNTLMv2(msg, key []byte, hashes string) (string, error) {
	if len(msg) < 64 || string(msg[:8]) != "NTLMSSP\x00" || binary.LittleEndian.Uint32(msg[8:]) != 3 {
		return "", errors.New("not an AUTHENTICATE message")
	}
	nt, err := field(msg, 20)
	if err != nil {
		return "", err
	}
	domain, err := field(msg, 28)
	if err != nil {
		return "", err
	}
	userB, err := field(msg, 36)
	if err != nil {
		return "", err
	}
	user := fromUTF16(userB)
	if len(nt) <= 24 {
		return "", errors.New("NTLMv1 responses are not accepted")
	}
	nonce, err := nonceOf(nt[16:])
	if err != nil {
		return "", err
	}
	challenge := serverChallenge(key, nonce)
	if user == "" || strings.ContainsAny(user, "/\\:") || user[0] == '.' {
		return "", errors.New("bad user name")
	}
	hexHash, err := os.ReadFile(filepath.Join(hashes, strings.ToLower(user)))
	if err != nil {
		return "", errors.New("unknown user")
	}
	ntHash, err := hex.DecodeString(strings.TrimSpace(strings.TrimPrefix(string(hexHash), "{NTLM}")))
	if err != nil {
		return "", errors.New("bad stored hash")
	}
	// NTOWFv2 = HMAC_MD5(NT hash, UNICODE(Uppercase(user) + domain));
	// NTProofStr = HMAC_MD5(NTOWFv2, server challenge + blob).
	mac := hmac.New(md5.New, ntHash)
	mac.Write(utf16le(strings.ToUpper(user) + fromUTF16(domain)))
	v2 := mac.Sum(nil)
	mac = hmac.New(md5.New, v2)
	mac.Write(challenge)
	mac.Write(nt[16:])
	if !hmac.Equal(mac.Sum(nil), nt[:16]) {
		return "", errors.New("wrong password")
	}
	return user, nil
}

// ntlmHelper speaks the squid-2.5-ntlmssp helper protocol on r and w.
func ntlmHelper(r io.Reader, w io.Writer, hashes string) {
	br := bufio.NewReader(r)
	key, err := os.ReadFile(filepath.Join(hashes, ".key"))
	if err != nil {
		fmt.Fprintf(w, "BH no key\n")
		return
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		msg, err := base64.StdEncoding.DecodeString(arg)
		switch {
		case err != nil:
			fmt.Fprintf(w, "BH bad base64\n")
		case cmd == "YR":
			b := make([]byte, 16)
			rand.Read(b)
			nonce := hex.EncodeToString(b)
			fmt.Fprintf(w, "TT %s\n", base64.StdEncoding.EncodeToString(challengeMessage(serverChallenge(key, nonce), nonce)))
		case cmd == "KK":
			user, err := verifyNTLMv2(msg, key, hashes)
			if err != nil {
				fmt.Fprintf(w, "NA %s\n", err)
				continue
			}
			fmt.Fprintf(w, "AF %s\n", user)
		default:
			fmt.Fprintf(w, "BH unexpected %s\n", cmd)
		}
	}
}

// installNTLMHelper copies the running binary, which turns into the
// helper at init (see above), where Dovecot's auth process can run it.
func (s *Server) installNTLMHelper() error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("dovecottest: find the test binary for the NTLM helper: %w", err)
	}
	in, err := os.Open(self)
	if err != nil {
		return fmt.Errorf("dovecottest: NTLM helper: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(s.ntlmHelperPath(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("dovecottest: NTLM helper: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("dovecottest: NTLM helper: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("dovecottest: NTLM helper: %w", err)
	}
	if err := os.MkdirAll(s.ntlmDir(), 0o755); err != nil {
		return fmt.Errorf("dovecottest: NTLM helper: %w", err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	return os.WriteFile(filepath.Join(s.ntlmDir(), ".key"), key, 0o644)
}

func (s *Server) ntlmHelperPath() string { return filepath.Join(s.dir, "ntlm_auth") }
func (s *Server) ntlmDir() string        { return filepath.Join(s.dir, "ntlm") }

// writeNTHash stores a user's NT hash for the helper.
func (s *Server) writeNTHash(name, password string) error {
	path := filepath.Join(s.ntlmDir(), strings.ToLower(name))
	if err := os.WriteFile(path+".tmp", []byte("{NTLM}"+NTHash(password)+"\n"), 0o644); err != nil {
		return fmt.Errorf("dovecottest: add user %q: %w", name, err)
	}
	return os.Rename(path+".tmp", path)
}
