package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
)

// testCA makes a CA or fails the test.
func testCA(t *testing.T, name string) (certPEM, keyPEM []byte) {
	t.Helper()
	certPEM, keyPEM, err := NewCA(name)
	if err != nil {
		t.Fatalf("NewCA(%q): %v", name, err)
	}
	return certPEM, keyPEM
}

// testNode makes a node key and a certificate signed by the CA.
func testNode(t *testing.T, caCert, caKey []byte, name string, hosts ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	keyPEM, pubPEM, err := NewKey()
	if err != nil {
		t.Fatalf("NewKey: %v", err)
	}
	certPEM, err = IssueNodeCert(caCert, caKey, name, pubPEM, hosts)
	if err != nil {
		t.Fatalf("IssueNodeCert(%q): %v", name, err)
	}
	return certPEM, keyPEM
}

func pubPEMOf(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestNewKey(t *testing.T) {
	keyPEM, pubPEM, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatalf("ParsePrivateKey: %v", err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatalf("ParsePublicKey: %v", err)
	}
	if !publicKeyEqual(key.Public(), pub) {
		t.Fatal("public key does not belong to the private key")
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		t.Fatalf("key is %T, want ECDSA P-256", pub)
	}
	if !strings.HasPrefix(string(keyPEM), "-----BEGIN PRIVATE KEY-----") {
		t.Errorf("key PEM is not PKCS #8: %.40q", keyPEM)
	}
}

func TestNewCA(t *testing.T) {
	tests := []struct {
		name    string
		cluster string
		wantErr bool
	}{
		{"simple", "prod", false},
		{"with dash", "pve-cluster-01", false},
		{"empty", "", true},
		{"too long", strings.Repeat("a", 65), true},
		{"control char", "a\nb", true},
		{"non ascii", "clüster", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, keyPEM, err := NewCA(tt.cluster)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewCA(%q) err = %v, wantErr %v", tt.cluster, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			cert, err := ParseCertificate(certPEM)
			if err != nil {
				t.Fatal(err)
			}
			if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
				t.Errorf("IsCA=%v KeyUsage=%v, want a signing CA", cert.IsCA, cert.KeyUsage)
			}
			if _, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok {
				t.Errorf("CA key is %T, want ECDSA", cert.PublicKey)
			}
			if life := time.Until(cert.NotAfter); life < CAValidity-time.Hour || life > CAValidity {
				t.Errorf("CA valid for another %v, want about %v", life, CAValidity)
			}
			if !strings.Contains(cert.Subject.CommonName, tt.cluster) {
				t.Errorf("CN %q does not name cluster %q", cert.Subject.CommonName, tt.cluster)
			}
			key, err := ParsePrivateKey(keyPEM)
			if err != nil {
				t.Fatal(err)
			}
			if !publicKeyEqual(key.Public(), cert.PublicKey) {
				t.Error("CA key does not match CA certificate")
			}
			if err := cert.CheckSignatureFrom(cert); err != nil {
				t.Errorf("CA is not self-signed: %v", err)
			}
		})
	}
}

func TestIssueNodeCert(t *testing.T) {
	caCert, caKey := testCA(t, "prod")
	otherCert, otherKey := testCA(t, "other")
	_, pubPEM, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	smallRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	leafCert, _ := testNode(t, caCert, caKey, "leaf")

	tests := []struct {
		name      string
		caCert    []byte
		caKey     []byte
		node      string
		pub       []byte
		hosts     []string
		wantDNS   []string
		wantIPs   []string
		wantUsage x509.KeyUsage
		wantErr   string
	}{
		{
			name: "ips and names", caCert: caCert, caKey: caKey, node: "pve1", pub: pubPEM,
			hosts:   []string{"10.0.0.1", "pve1.example.com", "::1", "[fe80::2]", " ", "10.0.0.1", "PVE1"},
			wantDNS: []string{"pve1", "pve1.example.com"}, wantIPs: []string{"10.0.0.1", "::1", "fe80::2"},
			wantUsage: x509.KeyUsageDigitalSignature,
		},
		{
			name: "no hosts", caCert: caCert, caKey: caKey, node: "pve2", pub: pubPEM,
			wantDNS: []string{"pve2"}, wantUsage: x509.KeyUsageDigitalSignature,
		},
		{
			name: "ed25519 key", caCert: caCert, caKey: caKey, node: "pve3", pub: pubPEMOf(t, edPub),
			wantDNS: []string{"pve3"}, wantUsage: x509.KeyUsageDigitalSignature,
		},
		{
			name: "rsa key", caCert: caCert, caKey: caKey, node: "pve4", pub: pubPEMOf(t, &rsaKey.PublicKey),
			wantDNS: []string{"pve4"}, wantUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		},
		{name: "small rsa key", caCert: caCert, caKey: caKey, node: "pve5", pub: pubPEMOf(t, &smallRSA.PublicKey), wantErr: "too small"},
		{name: "invalid node name", caCert: caCert, caKey: caKey, node: "pve_1", pub: pubPEM, wantErr: "invalid node name"},
		{name: "empty node name", caCert: caCert, caKey: caKey, node: "", pub: pubPEM, wantErr: "invalid node name"},
		{name: "invalid host", caCert: caCert, caKey: caKey, node: "pve1", pub: pubPEM, hosts: []string{"a b"}, wantErr: "invalid host"},
		{name: "ip with zone", caCert: caCert, caKey: caKey, node: "pve1", pub: pubPEM, hosts: []string{"fe80::1%eth0"}, wantErr: "invalid host"},
		{name: "garbage public key", caCert: caCert, caKey: caKey, node: "pve1", pub: []byte("nope"), wantErr: "node public key"},
		{name: "private key as public key", caCert: caCert, caKey: caKey, node: "pve1", pub: caKey, wantErr: "node public key"},
		{name: "garbage CA", caCert: []byte("x"), caKey: caKey, node: "pve1", pub: pubPEM, wantErr: "CA certificate"},
		{name: "CA key of another CA", caCert: caCert, caKey: otherKey, node: "pve1", pub: pubPEM, wantErr: "does not match"},
		{name: "leaf as CA", caCert: leafCert, caKey: caKey, node: "pve1", pub: pubPEM, wantErr: "not a CA"},
		{name: "missing CA key", caCert: otherCert, caKey: nil, node: "pve1", pub: pubPEM, wantErr: "CA key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, err := IssueNodeCert(tt.caCert, tt.caKey, tt.node, tt.pub, tt.hosts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cert, err := ParseCertificate(certPEM)
			if err != nil {
				t.Fatal(err)
			}
			if cert.Subject.CommonName != tt.node {
				t.Errorf("CN = %q, want %q", cert.Subject.CommonName, tt.node)
			}
			if !slices.Equal(cert.DNSNames, tt.wantDNS) {
				t.Errorf("DNSNames = %q, want %q", cert.DNSNames, tt.wantDNS)
			}
			var ips []string
			for _, ip := range cert.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("IPAddresses = %q, want %q", ips, tt.wantIPs)
			}
			if cert.IsCA {
				t.Error("node certificate is a CA")
			}
			if cert.KeyUsage != tt.wantUsage {
				t.Errorf("KeyUsage = %v, want %v", cert.KeyUsage, tt.wantUsage)
			}
			want, err := ParsePublicKey(tt.pub)
			if err != nil {
				t.Fatal(err)
			}
			if !publicKeyEqual(want, cert.PublicKey) {
				t.Error("certificate is not for the given public key")
			}
			pool, err := CertPool(caCert)
			if err != nil {
				t.Fatal(err)
			}
			for _, use := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
				if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{use}}); err != nil {
					t.Errorf("verify for use %v: %v", use, err)
				}
			}
			for _, ip := range tt.wantIPs {
				if err := cert.VerifyHostname(ip); err != nil {
					t.Errorf("VerifyHostname(%s): %v", ip, err)
				}
			}
			otherPool, err := CertPool(otherCert)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cert.Verify(x509.VerifyOptions{Roots: otherPool}); err == nil {
				t.Error("certificate verifies against another CA")
			}
		})
	}
}

// TestIssueNodeCertCappedByCA checks that a node certificate never outlives
// its CA, and that an expired CA signs nothing.
func TestIssueNodeCertCappedByCA(t *testing.T) {
	makeCA := func(notAfter time.Time) (certPEM, keyPEM []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "short CA"},
			NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter,
			KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		keyPEM, err = encodeKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return encodeCert(der), keyPEM
	}
	_, pubPEM, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}

	caEnd := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	caCert, caKey := makeCA(caEnd)
	certPEM, err := IssueNodeCert(caCert, caKey, "pve1", pubPEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.NotAfter.Equal(caEnd) {
		t.Errorf("NotAfter = %v, want the CA's %v", cert.NotAfter, caEnd)
	}

	expiredCert, expiredKey := makeCA(time.Now().Add(-time.Hour))
	if _, err := IssueNodeCert(expiredCert, expiredKey, "pve1", pubPEM, nil); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired CA: err = %v, want expired", err)
	}
}

func TestSelfSigned(t *testing.T) {
	tests := []struct {
		name    string
		node    string
		hosts   []string
		wantDNS []string
		wantIPs int
		wantErr bool
	}{
		{name: "node only", node: "pve1", wantDNS: []string{"pve1"}},
		{name: "with hosts", node: "pve1", hosts: []string{"192.168.1.10", "pve1.lan"}, wantDNS: []string{"pve1", "pve1.lan"}, wantIPs: 1},
		{name: "bad node", node: "-pve", wantErr: true},
		{name: "bad host", node: "pve1", hosts: []string{"x/y"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, keyPEM, err := SelfSigned(tt.node, tt.hosts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			cert, err := ParseCertificate(certPEM)
			if err != nil {
				t.Fatal(err)
			}
			if cert.Subject.CommonName != tt.node || !slices.Equal(cert.DNSNames, tt.wantDNS) || len(cert.IPAddresses) != tt.wantIPs {
				t.Errorf("CN %q DNS %q IPs %v", cert.Subject.CommonName, cert.DNSNames, cert.IPAddresses)
			}
			if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
				t.Errorf("not self-signed: %v", err)
			}
			if life := time.Until(cert.NotAfter); life > 825*24*time.Hour || life < APICertValidity-time.Hour {
				t.Errorf("valid for another %v, want about %v", life, APICertValidity)
			}
			if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
				t.Errorf("ExtKeyUsage %v lacks ServerAuth", cert.ExtKeyUsage)
			}
			key, err := ParsePrivateKey(keyPEM)
			if err != nil {
				t.Fatal(err)
			}
			if !publicKeyEqual(key.Public(), cert.PublicKey) {
				t.Error("key does not match certificate")
			}
		})
	}
}

func TestParsePrivateKeyFormats(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := encodeKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pem     []byte
		wantErr bool
	}{
		{"pkcs8", pkcs8, false},
		{"sec1", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), false},
		{"pkcs1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), false},
		{"after a certificate", append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), pkcs8...), false},
		{"empty", nil, true},
		{"corrupt", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePrivateKey(tt.pem)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestValidDNSName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"pve1", true},
		{"pve-1.example.com", true},
		{"example.com.", true},
		{"1", true},
		{"", false},
		{".", false},
		{"a..b", false},
		{"-a", false},
		{"a-", false},
		{"a_b", false},
		{"*.example.com", false},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{strings.Repeat("a.", 128), false},
	}
	for _, tt := range tests {
		if got := validDNSName(tt.in); got != tt.want {
			t.Errorf("validDNSName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
