package pki

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// handshake connects a client and a server over loopback TCP. The server
// answers one byte after its handshake; the client reads it, so a client
// certificate the server refuses after a TLS 1.3 client handshake has
// completed still shows up as a client error.
func handshake(t *testing.T, serverCfg, clientCfg *tls.Config) (serverErr, clientErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer raw.Close()
		_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
		conn := tls.Server(raw, serverCfg)
		if err := conn.Handshake(); err != nil {
			done <- err
			return
		}
		_, err = conn.Write([]byte{'x'})
		done <- err
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
	conn := tls.Client(raw, clientCfg)
	clientErr = conn.Handshake()
	if clientErr == nil {
		var b [1]byte
		_, clientErr = io.ReadFull(conn, b[:])
	}
	raw.Close()
	return <-done, clientErr
}

func TestMutualTLS(t *testing.T) {
	caCert, caKey := testCA(t, "prod")
	otherCA, otherKey := testCA(t, "evil")
	n1Cert, n1Key := testNode(t, caCert, caKey, "pve1", "127.0.0.1")
	n2Cert, n2Key := testNode(t, caCert, caKey, "pve2", "127.0.0.2")
	evilCert, evilKey := testNode(t, otherCA, otherKey, "pve2", "127.0.0.1")
	apiCert, apiKey, err := SelfSigned("pve2", nil)
	if err != nil {
		t.Fatal(err)
	}

	server, err := ServerTLS(n1Cert, n1Key, caCert)
	if err != nil {
		t.Fatalf("ServerTLS: %v", err)
	}
	client, err := ClientTLS(n2Cert, n2Key, caCert)
	if err != nil {
		t.Fatalf("ClientTLS: %v", err)
	}
	// evilServer and evilClient belong to another cluster but trust ours, so
	// only the other side's check can refuse them.
	evilServer, err := ServerTLS(evilCert, evilKey, otherCA)
	if err != nil {
		t.Fatal(err)
	}
	evilServer.ClientCAs, _ = CertPool(caCert)
	evilClient, err := ClientTLS(evilCert, evilKey, otherCA)
	if err != nil {
		t.Fatal(err)
	}
	evilClient.RootCAs, _ = CertPool(caCert)
	evilClient.VerifyConnection = nil
	noCert := client.Clone()
	noCert.Certificates = nil
	apiPair, err := tls.X509KeyPair(apiCert, apiKey)
	if err != nil {
		t.Fatal(err)
	}
	selfSignedClient := client.Clone()
	selfSignedClient.Certificates = []tls.Certificate{apiPair}
	tls12 := client.Clone()
	tls12.MaxVersion = tls.VersionTLS12

	tests := []struct {
		name          string
		server        *tls.Config
		client        *tls.Config
		wantServerErr bool
		wantClientErr bool
	}{
		{"same CA", server, client, false, false},
		{"client cert of another CA", server, evilClient, true, true},
		{"no client cert", server, noCert, true, true},
		{"self-signed client cert", server, selfSignedClient, true, true},
		{"server cert of another CA", evilServer, client, true, true},
		{"TLS 1.2 refused", server, tls12, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serr, cerr := handshake(t, tt.server, tt.client)
			if (serr != nil) != tt.wantServerErr {
				t.Errorf("server err = %v, want error %v", serr, tt.wantServerErr)
			}
			if (cerr != nil) != tt.wantClientErr {
				t.Errorf("client err = %v, want error %v", cerr, tt.wantClientErr)
			}
		})
	}
}

func TestTLSConfigErrors(t *testing.T) {
	caCert, caKey := testCA(t, "prod")
	otherCA, otherKey := testCA(t, "other")
	nCert, nKey := testNode(t, caCert, caKey, "pve1")
	_, strangerKey := testNode(t, caCert, caKey, "pve2")
	foreignCert, foreignKey := testNode(t, otherCA, otherKey, "pve1")
	apiCert, apiKey, err := SelfSigned("pve1", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		cert     []byte
		key      []byte
		ca       []byte
		wantErr  string
		onlyFunc string
	}{
		{name: "ok", cert: nCert, key: nKey, ca: caCert},
		{name: "both CAs", cert: nCert, key: nKey, ca: append(append([]byte{}, otherCA...), caCert...)},
		{name: "key of another node", cert: nCert, key: strangerKey, ca: caCert, wantErr: "key pair"},
		{name: "cert of another CA", cert: foreignCert, key: foreignKey, ca: caCert, wantErr: "not valid for the cluster CA"},
		{name: "self-signed cert", cert: apiCert, key: apiKey, ca: caCert, wantErr: "not valid for the cluster CA"},
		{name: "no CA", cert: nCert, key: nKey, ca: nil, wantErr: "no certificate"},
		{name: "garbage", cert: []byte("x"), key: []byte("y"), ca: caCert, wantErr: "key pair"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for fname, f := range map[string]func(a, b, c []byte) (*tls.Config, error){"ServerTLS": ServerTLS, "ClientTLS": ClientTLS} {
				cfg, err := f(tt.cert, tt.key, tt.ca)
				if tt.wantErr == "" {
					if err != nil || cfg == nil || cfg.MinVersion != tls.VersionTLS13 {
						t.Errorf("%s: cfg=%v err=%v, want a TLS 1.3 config", fname, cfg, err)
					}
					continue
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%s: err = %v, want one containing %q", fname, err, tt.wantErr)
				}
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	certPEM, _, err := SelfSigned("pve1", nil)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := Fingerprint(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	if len(fp) != 95 || !fingerprintRE.MatchString(fp) || strings.ToUpper(fp) != fp {
		t.Errorf("Fingerprint = %q, want 95 chars of upper-case colon-separated hex", fp)
	}
	// Known vector: SHA-256 of the DER bytes "abc".
	abc := []byte("-----BEGIN CERTIFICATE-----\nYWJj\n-----END CERTIFICATE-----\n")
	got, err := Fingerprint(abc)
	if err != nil {
		t.Fatal(err)
	}
	const want = "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
	if got != want {
		t.Errorf("Fingerprint(abc) = %s, want %s", got, want)
	}
	for _, bad := range [][]byte{nil, []byte("junk"), []byte("-----BEGIN PUBLIC KEY-----\nYWJj\n-----END PUBLIC KEY-----\n")} {
		if _, err := Fingerprint(bad); err == nil {
			t.Errorf("Fingerprint(%q) succeeded", bad)
		}
	}
}

func TestNormalizeFingerprint(t *testing.T) {
	const upper = "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{"upper", upper, upper, false},
		{"lower", strings.ToLower(upper), upper, false},
		{"mixed", "ba:78:16:BF" + upper[11:], upper, false},
		{"empty", "", "", true},
		{"too short", upper[:92], "", true},
		{"too long", upper + ":00", "", true},
		{"no colons", strings.ReplaceAll(upper, ":", ""), "", true},
		{"dashes", strings.ReplaceAll(upper, ":", "-"), "", true},
		{"non hex", "ZZ" + upper[2:], "", true},
		{"trailing newline", upper + "\n", "", true},
		{"leading space", " " + upper, "", true},
		{"sha1 length", upper[:59], "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeFingerprint(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("NormalizeFingerprint(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestPinnedClientTLS(t *testing.T) {
	certPEM, keyPEM, err := SelfSigned("pve1", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	server := &tls.Config{Certificates: []tls.Certificate{pair}}
	fp, err := Fingerprint(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	otherPEM, _, err := SelfSigned("pve1", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	otherFP, err := Fingerprint(otherPEM)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pin     string
		wantErr bool
	}{
		{"exact", fp, false},
		{"lower case", strings.ToLower(fp), false},
		{"another certificate", otherFP, true},
		{"empty", "", true},
		{"malformed", "not-a-fingerprint", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cerr := handshake(t, server, PinnedClientTLS(tt.pin))
			if !tt.wantErr {
				if cerr != nil {
					t.Fatalf("pinned handshake: %v", cerr)
				}
				return
			}
			var fpErr *FingerprintError
			if !errors.As(cerr, &fpErr) {
				t.Fatalf("err = %v (%T), want *FingerprintError", cerr, cerr)
			}
			if want := "fingerprint '" + fp + "' not verified, abort!"; cerr.Error() != want {
				t.Errorf("err = %q, want %q", cerr.Error(), want)
			}
		})
	}
}
