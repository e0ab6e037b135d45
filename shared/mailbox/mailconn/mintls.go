package mailconn

import "crypto/tls"

// MinTLSVersion is the crypto/tls version of a job's server.minTLS ("1.0"
// to "1.3"); TLS 1.2 when it is empty or unknown.
//
// TLS 1.0 and 1.1 (RFC 8996 deprecates both) are offered only when the job
// asks. Go's TLS client still speaks them when MinVersion allows; it no
// longer offers the CBC and RSA key-exchange cipher suites such servers
// often need unless GODEBUG says so (tlsrsakex=1, tls3des=1), which is left
// to the operator: see the README, "Old TLS versions".
func MinTLSVersion(v string) uint16 {
	switch v {
	case "1.0":
		return tls.VersionTLS10
	case "1.1":
		return tls.VersionTLS11
	case "1.3":
		return tls.VersionTLS13
	}
	return tls.VersionTLS12
}
