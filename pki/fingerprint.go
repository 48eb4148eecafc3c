package pki

import (
	"crypto/tls"
	"fmt"
	"regexp"
	"strings"
)

// fingerprintRE is Proxmox's format for a SHA-256 certificate fingerprint
// (pve-common JSONSchema, `POST /cluster/config/join` `fingerprint`).
var fingerprintRE = regexp.MustCompile(`^([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}$`)

// Fingerprint returns the SHA-256 fingerprint of the first certificate in
// certPEM as Proxmox prints it: upper-case hex bytes separated by colons
// ("AA:BB:...", 95 characters).
func Fingerprint(certPEM []byte) (string, error) {
	der, err := findBlock(certPEM, pemCertificate)
	if err != nil {
		return "", fmt.Errorf("pki: fingerprint: %w", err)
	}
	return sha256Fingerprint(der), nil
}

// NormalizeFingerprint checks that s has Proxmox's fingerprint format
// `([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}` and returns it upper-cased.
func NormalizeFingerprint(s string) (string, error) {
	if !fingerprintRE.MatchString(s) {
		return "", fmt.Errorf("pki: invalid fingerprint %q: want 32 colon-separated hex bytes (SHA-256)", s)
	}
	return strings.ToUpper(s), nil
}

// FingerprintError is the handshake error of a PinnedClientTLS connection
// whose server certificate does not have the pinned fingerprint.
type FingerprintError struct {
	// Fingerprint is the SHA-256 fingerprint of the certificate the server
	// presented (empty if it presented none).
	Fingerprint string
}

// Error returns Proxmox's text (pve-apiclient): "fingerprint '<fp>' not verified, abort!".
func (e *FingerprintError) Error() string {
	return fmt.Sprintf("fingerprint '%s' not verified, abort!", e.Fingerprint)
}

// PinnedClientTLS returns a client configuration that accepts exactly the
// server certificate with the given SHA-256 fingerprint (any case), whatever
// its issuer, names or dates, as `pvecm add --fingerprint` does. Any other
// certificate fails the handshake with a *FingerprintError naming the
// fingerprint the server presented. A malformed fingerprint matches nothing;
// check user input with NormalizeFingerprint first.
func PinnedClientTLS(fingerprint string) *tls.Config {
	want := strings.ToUpper(fingerprint)
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain is not verified against any root: the pin replaces it.
		// VerifyConnection below runs on every handshake, resumed ones too.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return &FingerprintError{}
			}
			got := sha256Fingerprint(cs.PeerCertificates[0].Raw)
			if got != want {
				return &FingerprintError{Fingerprint: got}
			}
			return nil
		},
	}
}
