// Package pki makes and checks the certificates of a pvecfs node: the cluster
// CA, node certificates for the mutual-TLS cluster channel, the self-signed API
// certificate, Proxmox-style SHA-256 fingerprints, and the TLS configurations
// built from them.
//
// All keys are ECDSA P-256. Private keys are PEM "PRIVATE KEY" (PKCS #8),
// public keys PEM "PUBLIC KEY" (PKIX), certificates PEM "CERTIFICATE".
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// Validity periods of the certificates this package makes.
const (
	// CAValidity is the lifetime of a cluster CA.
	CAValidity = 10 * 365 * 24 * time.Hour
	// NodeCertValidity is the lifetime of a node certificate; it never
	// outlives the CA that signs it.
	NodeCertValidity = 10 * 365 * 24 * time.Hour
	// APICertValidity is the lifetime of the self-signed API certificate:
	// two years, as Proxmox's pve-ssl.pem, below the 825 days some browsers
	// accept for any server certificate.
	APICertValidity = 2 * 365 * 24 * time.Hour
	// backdate moves NotBefore into the past so that a certificate issued on
	// one node is already valid on a peer whose clock lags.
	backdate = 24 * time.Hour
)

// PEM block types.
const (
	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY"
	pemPublicKey   = "PUBLIC KEY"
)

// NewKey generates an ECDSA P-256 key pair and returns the private key as PEM
// PKCS #8 and the public key as PEM PKIX. A joining node sends only pubPEM to
// the cluster, so its private key never leaves it.
func NewKey() (keyPEM, pubPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generate key: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, nil, fmt.Errorf("pki: marshal public key: %w", err)
	}
	return keyPEM, pem.EncodeToMemory(&pem.Block{Type: pemPublicKey, Bytes: der}), nil
}

// NewCA makes a self-signed cluster CA (ECDSA P-256, valid CAValidity) for
// the named cluster and returns its certificate and private key as PEM.
func NewCA(clusterName string) (certPEM, keyPEM []byte, err error) {
	if err := checkPrintable("cluster name", clusterName, 64); err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:         "pvecfs cluster CA " + clusterName,
			Organization:       []string{"pvecfs"},
			OrganizationalUnit: []string{clusterName},
		},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: create CA certificate: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return encodeCert(der), keyPEM, nil
}

// IssueNodeCert signs a certificate for nodeName's public key (PEM PKIX) with
// the cluster CA. The certificate is both a server and a client certificate
// (mutual TLS), its CommonName is nodeName and its subject alternative names
// are nodeName plus every entry of hosts (IP addresses and DNS names).
func IssueNodeCert(caCertPEM, caKeyPEM []byte, nodeName string, pubKeyPEM []byte, hosts []string) (certPEM []byte, err error) {
	ca, err := ParseCertificate(caCertPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: CA certificate: %w", err)
	}
	if !ca.IsCA || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, errors.New("pki: CA certificate: not a CA")
	}
	caKey, err := ParsePrivateKey(caKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: CA key: %w", err)
	}
	if !publicKeyEqual(caKey.Public(), ca.PublicKey) {
		return nil, errors.New("pki: CA key does not match the CA certificate")
	}
	pub, err := ParsePublicKey(pubKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: node public key: %w", err)
	}
	usage, err := keyUsageFor(pub)
	if err != nil {
		return nil, err
	}
	tmpl, err := leafTemplate(nodeName, hosts, NodeCertValidity)
	if err != nil {
		return nil, err
	}
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter
	}
	if !tmpl.NotAfter.After(time.Now()) {
		return nil, errors.New("pki: CA certificate has expired")
	}
	tmpl.KeyUsage = usage
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey)
	if err != nil {
		return nil, fmt.Errorf("pki: sign node certificate for %q: %w", nodeName, err)
	}
	return encodeCert(der), nil
}

// SelfSigned makes a self-signed ECDSA P-256 server certificate for the node's
// HTTPS API (the counterpart of Proxmox's pve-ssl.pem), valid APICertValidity,
// with nodeName as CommonName and nodeName plus hosts as subject alternative
// names. Clients trust it by its fingerprint.
func SelfSigned(nodeName string, hosts []string) (certPEM, keyPEM []byte, err error) {
	tmpl, err := leafTemplate(nodeName, hosts, APICertValidity)
	if err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generate key: %w", err)
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: create self-signed certificate for %q: %w", nodeName, err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return encodeCert(der), keyPEM, nil
}

// ParseCertificate returns the first CERTIFICATE block of data, parsed.
func ParseCertificate(data []byte) (*x509.Certificate, error) {
	der, err := findBlock(data, pemCertificate)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return cert, nil
}

// ParsePrivateKey parses a PEM private key: PKCS #8 ("PRIVATE KEY"), SEC 1
// ("EC PRIVATE KEY") or PKCS #1 ("RSA PRIVATE KEY").
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no private key PEM block found")
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case pemPrivateKey:
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", strings.ToLower(block.Type), err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", key)
		}
		return signer, nil
	}
}

// ParsePublicKey parses a PEM "PUBLIC KEY" (PKIX) block.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	der, err := findBlock(data, pemPublicKey)
	if err != nil {
		return nil, err
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	return pub, nil
}

// findBlock returns the bytes of the first PEM block of the given type.
func findBlock(data []byte, typ string) ([]byte, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("no %s PEM block found", typ)
		}
		if block.Type == typ {
			return block.Bytes, nil
		}
	}
}

// leafTemplate builds the common part of node and API certificates.
func leafTemplate(nodeName string, hosts []string, validity time.Duration) (*x509.Certificate, error) {
	if !validDNSName(nodeName) {
		return nil, fmt.Errorf("pki: invalid node name %q", nodeName)
	}
	ips, names, err := splitHosts(nodeName, hosts)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: nodeName, Organization: []string{"pvecfs"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		BasicConstraintsValid: true,
		DNSNames:              names,
		IPAddresses:           ips,
	}, nil
}

// splitHosts sorts hosts into IP addresses and DNS names, drops empty entries
// and duplicates, and puts nodeName first among the names.
func splitHosts(nodeName string, hosts []string) ([]net.IP, []string, error) {
	names := []string{nodeName}
	seen := map[string]bool{strings.ToLower(nodeName): true}
	var ips []net.IP
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			h = h[1 : len(h)-1]
		}
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			if k := "ip:" + ip.String(); !seen[k] {
				seen[k] = true
				ips = append(ips, ip)
			}
			continue
		}
		if !validDNSName(h) {
			return nil, nil, fmt.Errorf("pki: invalid host %q: neither an IP address nor a DNS name", h)
		}
		if k := strings.ToLower(h); !seen[k] {
			seen[k] = true
			names = append(names, h)
		}
	}
	return ips, names, nil
}

// validDNSName reports whether s is a host name: dot-separated labels of
// letters, digits and inner hyphens, at most 63 bytes each, 253 in all.
func validDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// checkPrintable refuses an empty, too long or non-printable-ASCII value.
func checkPrintable(what, s string, maxLen int) error {
	if s == "" || len(s) > maxLen {
		return fmt.Errorf("pki: %s must be 1 to %d characters", what, maxLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return fmt.Errorf("pki: %s %q holds a character that is not printable ASCII", what, s)
		}
	}
	return nil
}

// keyUsageFor returns the X.509 key usage fitting a leaf's public key.
func keyUsageFor(pub crypto.PublicKey) (x509.KeyUsage, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return x509.KeyUsageDigitalSignature, nil
	case ed25519.PublicKey:
		return x509.KeyUsageDigitalSignature, nil
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return 0, fmt.Errorf("pki: RSA public key of %d bits is too small", k.N.BitLen())
		}
		return x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, nil
	default:
		return 0, fmt.Errorf("pki: unsupported public key type %T", pub)
	}
}

// publicKeyEqual compares two public keys of the standard library types.
func publicKeyEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// newSerial returns a random positive 128-bit certificate serial number.
func newSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("pki: generate serial number: %w", err)
	}
	return serial.Add(serial, big.NewInt(1)), nil
}

// encodeCert wraps a DER certificate in PEM.
func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der})
}

// encodeKey marshals a private key as PEM PKCS #8.
func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// sha256Fingerprint formats the SHA-256 of der as upper-case, colon separated hex.
func sha256Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	const hexdigits = "0123456789ABCDEF"
	out := make([]byte, 0, len(sum)*3-1)
	for i, b := range sum {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hexdigits[b>>4], hexdigits[b&0x0f])
	}
	return string(out)
}
