package ticket

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/pvecfs/pvecfs/cfs"
)

// Tree paths of the key material (reference §2.5).
const (
	// PrivKeyPath holds the ticket signing key (PEM).
	PrivKeyPath = "priv/authkey.key"
	// PubKeyPath holds the current verification key (PEM SubjectPublicKeyInfo);
	// its mtime is the key's age.
	PubKeyPath = "authkey.pub"
	// OldPubKeyPath holds the previous verification key; its mtime is the
	// time of the last rotation.
	OldPubKeyPath = "authkey.pub.old"
	// WWWKeyPath holds an RSA key whose bytes are the CSRF secret's input.
	WWWKeyPath = "pve-www.key"
)

// KeyBits is the size of generated RSA keys, as PVE makes them.
const KeyBits = 2048

// GenerateKeyPair makes a new ticket key pair: the private key as PKCS#8
// PEM ("PRIVATE KEY", what openssl genrsa writes) and the public key as
// SubjectPublicKeyInfo PEM ("PUBLIC KEY").
func GenerateKeyPair() (privPEM, pubPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, nil, fmt.Errorf("generate auth key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode auth key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("encode auth public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), nil
}

// GenerateWWWKey makes the content of a new pve-www.key: an RSA private key
// in PEM, as PVE's cluster setup generates it.
func GenerateWWWKey() ([]byte, error) {
	priv, _, err := GenerateKeyPair()
	if err != nil {
		return nil, fmt.Errorf("generate pve-www.key: %w", err)
	}
	return priv, nil
}

// ParsePrivateKey reads an RSA private key in PEM, PKCS#8 or PKCS#1.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("auth key: no PEM data")
	}
	switch b.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("auth key: %w", err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("auth key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("auth key: not an RSA key")
		}
		return rk, nil
	}
	return nil, fmt.Errorf("auth key: unexpected PEM block %q", b.Type)
}

// ParsePublicKey reads an RSA public key in PEM, SubjectPublicKeyInfo
// ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY").
func ParsePublicKey(data []byte) (*rsa.PublicKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("auth public key: no PEM data")
	}
	switch b.Type {
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("auth public key: %w", err)
		}
		return k, nil
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("auth public key: %w", err)
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("auth public key: not an RSA key")
		}
		return rk, nil
	}
	return nil, fmt.Errorf("auth public key: unexpected PEM block %q", b.Type)
}

func step(op string, body any) (cfs.BatchOp, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return cfs.BatchOp{}, fmt.Errorf("encode %s step: %w", op, err)
	}
	return cfs.BatchOp{Op: op, Body: b}, nil
}

// CreateOps returns batch steps that create the file path with data only if
// it does not exist: "mkdir path" fails with cfs.CodeExists when anything is
// there, and is undone by "delete path" in the same atomic batch before the
// file is written. Missing parent directories are created.
func CreateOps(path string, data []byte) ([]cfs.BatchOp, error) {
	var ops []cfs.BatchOp
	type st struct {
		op   string
		body any
	}
	var steps []st
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		steps = append(steps, st{cfs.OpMkdir, cfs.PathRequest{Path: path[:i], Parents: true}})
	}
	steps = append(steps,
		st{cfs.OpMkdir, cfs.PathRequest{Path: path}},
		st{cfs.OpDelete, cfs.PathRequest{Path: path}},
		st{cfs.OpWrite, cfs.WriteRequest{Path: path, Data: data}})
	for _, s := range steps {
		o, err := step(s.op, s.body)
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
	}
	return ops, nil
}

// RotationOps returns the batch that installs a new key pair, as
// rotate_authkey does: the current public key (cur, nil if there is none)
// moves to authkey.pub.old, the new one to authkey.pub and the new private
// key to priv/authkey.key. The write of authkey.pub carries the digest of
// cur (or is an exclusive create when there is none), so of two nodes
// rotating at once exactly one wins; the other's batch fails as a whole
// (see LostRace) and it uses the winner's key.
func RotationOps(cur *cfs.Entry, newPriv, newPub []byte) ([]cfs.BatchOp, error) {
	var ops []cfs.BatchOp
	if cur == nil {
		c, err := CreateOps(PubKeyPath, newPub)
		if err != nil {
			return nil, err
		}
		ops = append(ops, c...)
	} else {
		if cur.IsDir() {
			return nil, fmt.Errorf("rotate auth key: '%s' is a directory", PubKeyPath)
		}
		w, err := step(cfs.OpWrite, cfs.WriteRequest{Path: PubKeyPath, Data: newPub, Digest: cur.Digest()})
		if err != nil {
			return nil, err
		}
		o, err := step(cfs.OpWrite, cfs.WriteRequest{Path: OldPubKeyPath, Data: cur.Bytes()})
		if err != nil {
			return nil, err
		}
		ops = append(ops, w, o)
	}
	p, err := step(cfs.OpWrite, cfs.WriteRequest{Path: PrivKeyPath, Data: newPriv, Parents: true})
	if err != nil {
		return nil, err
	}
	return append(ops, p), nil
}

// LostRace reports whether a key batch failed because another node changed
// the key files first (digest mismatch or exclusive create of an existing
// file); the caller re-reads the tree and uses what is there.
func LostRace(err error) bool {
	return cfs.IsCode(err, cfs.CodeDigest) || cfs.IsCode(err, cfs.CodeExists)
}
