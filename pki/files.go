package pki

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// File modes for what this package writes.
const (
	// KeyFileMode is the mode of private key files.
	KeyFileMode os.FileMode = 0o600
	// CertFileMode is the mode of certificate files.
	CertFileMode os.FileMode = 0o644
)

// renewBefore is how long before expiry EnsureSelfSigned replaces the API
// certificate.
const renewBefore = 30 * 24 * time.Hour

// WriteFileAtomic replaces path with data: it writes a temporary file in the
// same directory with the given mode, syncs it, renames it over path and
// syncs the directory. Readers see the old content or the new, never a part.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	// CreateTemp makes the file 0600; Chmod sets the mode regardless of umask.
	if err = tmp.Chmod(mode.Perm()); err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("pki: write %s: sync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("pki: write %s: close: %w", path, err)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("pki: write %s: sync directory: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// LoadKeyPair reads a PEM certificate and its PEM private key from files and
// checks that they belong together.
func LoadKeyPair(certPath, keyPath string) (certPEM, keyPEM []byte, err error) {
	certPEM, err = os.ReadFile(certPath)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %w", err)
	}
	keyPEM, err = os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: %w", err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, nil, fmt.Errorf("pki: key pair %s, %s: %w", certPath, keyPath, err)
	}
	return certPEM, keyPEM, nil
}

// SaveKeyPair writes a certificate (mode CertFileMode) and its private key
// (mode KeyFileMode), each atomically; the key is written first, so a
// certificate on disk always has its key.
func SaveKeyPair(certPath, keyPath string, certPEM, keyPEM []byte) error {
	if err := WriteFileAtomic(keyPath, keyPEM, KeyFileMode); err != nil {
		return err
	}
	return WriteFileAtomic(certPath, certPEM, CertFileMode)
}

// EnsureSelfSigned returns the API certificate and key stored at certPath and
// keyPath. If either file is missing, or the certificate expires within 30
// days, it makes a new one with SelfSigned, saves it and reports created.
// Files that exist but cannot be read or do not match are an error, not a
// reason to replace them.
func EnsureSelfSigned(certPath, keyPath, nodeName string, hosts []string) (certPEM, keyPEM []byte, created bool, err error) {
	certPEM, keyPEM, err = LoadKeyPair(certPath, keyPath)
	switch {
	case err == nil:
		cert, perr := ParseCertificate(certPEM)
		if perr != nil {
			return nil, nil, false, fmt.Errorf("pki: %s: %w", certPath, perr)
		}
		if time.Until(cert.NotAfter) > renewBefore {
			return certPEM, keyPEM, false, nil
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, nil, false, err
	}
	certPEM, keyPEM, err = SelfSigned(nodeName, hosts)
	if err != nil {
		return nil, nil, false, err
	}
	if err := SaveKeyPair(certPath, keyPath, certPEM, keyPEM); err != nil {
		return nil, nil, false, err
	}
	return certPEM, keyPEM, true, nil
}
