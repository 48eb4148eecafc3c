package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// ServerTLS returns the server side of the cluster channel: it presents the
// node certificate and requires a client certificate that verifies to the CA
// in caPEM and allows client authentication (mutual TLS). TLS 1.3 only.
func ServerTLS(certPEM, keyPEM, caPEM []byte) (*tls.Config, error) {
	pair, pool, err := nodeMaterial(certPEM, keyPEM, caPEM, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, fmt.Errorf("pki: server TLS: %w", err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}, nil
}

// ClientTLS returns the client side of the cluster channel: it presents the
// node certificate and accepts a server whose certificate chain verifies to
// the CA in caPEM and allows server authentication. The server's name is not
// compared with the dialled address, since nodes are addressed by IP:port;
// membership of the cluster CA is what is checked. TLS 1.3 only.
func ClientTLS(certPEM, keyPEM, caPEM []byte) (*tls.Config, error) {
	pair, pool, err := nodeMaterial(certPEM, keyPEM, caPEM, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, fmt.Errorf("pki: client TLS: %w", err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{pair},
		RootCAs:      pool,
		// The built-in check would also match the host name, which we do not
		// want; VerifyConnection below does the chain check instead and runs
		// on every handshake, resumed ones included.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, pool, x509.ExtKeyUsageServerAuth)
		},
	}, nil
}

// nodeMaterial loads a node's key pair and CA pool and checks that the node
// certificate verifies to the CA for the given use.
func nodeMaterial(certPEM, keyPEM, caPEM []byte, use x509.ExtKeyUsage) (tls.Certificate, *x509.CertPool, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("node key pair: %w", err)
	}
	pool, err := CertPool(caPEM)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	chain := make([]*x509.Certificate, 0, len(pair.Certificate))
	for _, der := range pair.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return tls.Certificate{}, nil, fmt.Errorf("node certificate: %w", err)
		}
		chain = append(chain, c)
	}
	if err := verifyChain(chain, pool, use); err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("node certificate: %w", err)
	}
	return pair, pool, nil
}

// CertPool returns a pool of every certificate in caPEM (one or more CA
// certificates, e.g. during a CA change).
func CertPool(caPEM []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("CA: no certificate found in PEM")
	}
	return pool, nil
}

// verifyChain checks that chain[0] verifies to roots for the given use, with
// the rest of chain as intermediates.
func verifyChain(chain []*x509.Certificate, roots *x509.CertPool, use x509.ExtKeyUsage) error {
	if len(chain) == 0 {
		return errors.New("peer presented no certificate")
	}
	opts := x509.VerifyOptions{
		Roots:         roots,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{use},
	}
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := chain[0].Verify(opts); err != nil {
		return fmt.Errorf("certificate of %q not valid for the cluster CA: %w", chain[0].Subject.CommonName, err)
	}
	return nil
}
