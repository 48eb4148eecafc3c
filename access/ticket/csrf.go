package ticket

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// CSRFSecret derives the CSRF prevention secret from the bytes of
// pve-www.key as PVE::AccessControl does: the unpadded base64 of
// HMAC-SHA256 with an empty key over the file content.
func CSRFSecret(wwwKey []byte) string {
	m := hmac.New(sha256.New, nil)
	m.Write(wwwKey)
	return base64.RawStdEncoding.EncodeToString(m.Sum(nil))
}

func csrfDigest(secret, stamp, userid string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stamp))
	m.Write([]byte{':'})
	m.Write([]byte(userid))
	return base64.RawStdEncoding.EncodeToString(m.Sum(nil))
}

// CSRFToken is PVE::Ticket::assemble_csrf_prevention_token:
// "<HEX8 time>:<unpadded base64 of HMAC-SHA256(secret, "<HEX8>:<userid>")>".
func CSRFToken(secret, userid string, now int64) string {
	stamp := fmt.Sprintf("%08X", now)
	return stamp + ":" + csrfDigest(secret, stamp, userid)
}

// VerifyCSRF is PVE::Ticket::verify_csrf_prevention_token with PVE's window:
// the token must match ^([A-Z0-9]{8}):(\S+)$, carry the right digest for
// userid and be between -GracePeriod and Lifetime seconds old (exclusive).
// The legacy 27-character SHA-1 form is not accepted.
func VerifyCSRF(secret, userid, token string, now int64) bool {
	stamp, sig, ok := strings.Cut(token, ":")
	if !ok || sig == "" || hasSpace(sig) {
		return false
	}
	ts, ok := parseHex8(stamp)
	if !ok {
		return false
	}
	want := csrfDigest(secret, stamp, userid)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return false
	}
	age := now - ts
	return age > -GracePeriod && age < Lifetime
}
