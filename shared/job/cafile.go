package job

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// checkCAFile reads a caFile and says what is wrong with it, or "": it
// must hold one or more PEM "CERTIFICATE" blocks (RFC 7468 section 5),
// each an X.509 certificate, and nothing else. A private key is refused
// outright, since the file is packaged with the functions. The message
// never quotes the file's content.
func checkCAFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("cannot read %q: %v", path, errors.Unwrap(err))
	}
	n := 0
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		switch {
		case block.Type == "CERTIFICATE":
			n++
			if _, err := x509.ParseCertificate(block.Bytes); err != nil {
				return fmt.Sprintf("%q: certificate %d cannot be parsed as X.509", path, n)
			}
		case strings.Contains(block.Type, "PRIVATE KEY"):
			return fmt.Sprintf("%q holds a private key: put only the authorities' certificates in it, and keep the key off this repository", path)
		default:
			return fmt.Sprintf("%q holds a %s block: only PEM certificates belong in it", path, block.Type)
		}
	}
	if n == 0 {
		return fmt.Sprintf("%q contains no PEM certificate", path)
	}
	return ""
}
