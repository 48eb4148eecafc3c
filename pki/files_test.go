package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		path    string
		data    string
		mode    os.FileMode
		wantErr bool
	}{
		{name: "key", path: filepath.Join(dir, "node.key"), data: "secret", mode: 0o600},
		{name: "overwrite key", path: filepath.Join(dir, "node.key"), data: "secret2", mode: 0o600},
		{name: "cert", path: filepath.Join(dir, "node.pem"), data: "cert", mode: 0o644},
		{name: "overwrite with tighter mode", path: filepath.Join(dir, "node.pem"), data: "cert2", mode: 0o600},
		{name: "empty content", path: filepath.Join(dir, "empty"), data: "", mode: 0o600},
		{name: "missing directory", path: filepath.Join(dir, "nope", "x"), data: "x", mode: 0o600, wantErr: true},
		{name: "target is a directory", path: dir, data: "x", mode: 0o600, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteFileAtomic(tt.path, []byte(tt.data), tt.mode)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.path) {
					t.Errorf("error %q does not name the path", err)
				}
				return
			}
			got, err := os.ReadFile(tt.path)
			if err != nil || string(got) != tt.data {
				t.Fatalf("read back %q, %v; want %q", got, err, tt.data)
			}
			st, err := os.Stat(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != tt.mode {
				t.Errorf("mode = %v, want %v", st.Mode().Perm(), tt.mode)
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestEnsureSelfSigned(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "api.pem"), filepath.Join(dir, "api.key")

	cert1, key1, created, err := EnsureSelfSigned(certPath, keyPath, "pve1", []string{"10.0.0.1"})
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v, want a new certificate", created, err)
	}
	if st, err := os.Stat(keyPath); err != nil || st.Mode().Perm() != KeyFileMode {
		t.Errorf("key file: %v, %v; want mode %v", st, err, KeyFileMode)
	}
	cert2, key2, created, err := EnsureSelfSigned(certPath, keyPath, "pve1", nil)
	if err != nil || created {
		t.Fatalf("second call: created=%v err=%v, want the stored one", created, err)
	}
	if !bytes.Equal(cert1, cert2) || !bytes.Equal(key1, key2) {
		t.Error("second call returned a different certificate")
	}

	// A key that does not belong to the certificate is an error, and the
	// files are left alone.
	_, otherKey, err := SelfSigned("pve1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(keyPath, otherKey, KeyFileMode); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := EnsureSelfSigned(certPath, keyPath, "pve1", nil); err == nil {
		t.Error("mismatched key pair accepted")
	}
	if got, _ := os.ReadFile(certPath); !bytes.Equal(got, cert1) {
		t.Error("certificate replaced after an error")
	}

	// A missing certificate is made again.
	if err := os.Remove(certPath); err != nil {
		t.Fatal(err)
	}
	cert3, _, created, err := EnsureSelfSigned(certPath, keyPath, "pve1", nil)
	if err != nil || !created || bytes.Equal(cert3, cert1) {
		t.Errorf("after removal: created=%v err=%v, want a new certificate", created, err)
	}

	// A certificate that expires within 30 days is renewed.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pve1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	oldKey, err := encodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveKeyPair(certPath, keyPath, encodeCert(der), oldKey); err != nil {
		t.Fatal(err)
	}
	cert4, _, created, err := EnsureSelfSigned(certPath, keyPath, "pve1", nil)
	if err != nil || !created || bytes.Equal(cert4, encodeCert(der)) {
		t.Errorf("expiring soon: created=%v err=%v, want a new certificate", created, err)
	}

	if _, _, _, err := EnsureSelfSigned(filepath.Join(dir, "x.pem"), filepath.Join(dir, "x.key"), "bad_name", nil); err == nil {
		t.Error("invalid node name accepted")
	}
}

func TestLoadKeyPair(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, err := SelfSigned("pve1", nil)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "c.key")
	if err := SaveKeyPair(certPath, keyPath, certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	gotCert, gotKey, err := LoadKeyPair(certPath, keyPath)
	if err != nil || !bytes.Equal(gotCert, certPEM) || !bytes.Equal(gotKey, keyPEM) {
		t.Fatalf("LoadKeyPair: %v", err)
	}
	if _, _, err := LoadKeyPair(certPath, filepath.Join(dir, "missing")); err == nil {
		t.Error("missing key accepted")
	}
	if _, _, err := LoadKeyPair(keyPath, certPath); err == nil {
		t.Error("swapped files accepted")
	}
}
