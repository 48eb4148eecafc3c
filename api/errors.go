package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/pvecfs/pvecfs/cfs"
)

// Error is an API failure: HTTP status, Proxmox message, and per-parameter
// errors for 400 "Parameter verification failed.".
type Error struct {
	Status  int
	Message string
	Errors  map[string]string
}

func (e *Error) Error() string { return e.Message }

// ParamMessage is Proxmox's message for parameter errors.
const ParamMessage = "Parameter verification failed.\n"

// ParamError builds a 400 naming each bad parameter.
func ParamError(errs map[string]string) *Error {
	return &Error{Status: http.StatusBadRequest, Message: ParamMessage, Errors: errs}
}

// ParamErr builds a 400 for one parameter.
func ParamErr(name, msg string) *Error { return ParamError(map[string]string{name: msg}) }

// Forbidden builds a 403 "Permission check failed (...)".
func Forbidden(detail string) *Error {
	return &Error{Status: http.StatusForbidden, Message: "Permission check failed (" + detail + ")\n"}
}

// Unauthorized is the 401 every authentication failure answers with.
func Unauthorized() *Error {
	return &Error{Status: http.StatusUnauthorized, Message: "authentication failure\n"}
}

// NotImplemented is Proxmox's answer for an unknown method or path.
func NotImplemented(method, path string) *Error {
	return &Error{Status: http.StatusNotImplemented, Message: fmt.Sprintf("Method '%s %s' not implemented", method, path)}
}

// Errorf builds an error with a status.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// toError maps any error to an API error: cfs command errors keep their
// status; anything else is a 500 with its text, as a Perl die would be.
func toError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var ce *cfs.Error
	if errors.As(err, &ce) {
		st := ce.Status
		if st == 0 {
			st = http.StatusInternalServerError
		}
		return &Error{Status: st, Message: ce.Message}
	}
	return &Error{Status: http.StatusInternalServerError, Message: err.Error()}
}

// reasonPhrase is the first line of a message, as pve-http-server sets it.
func reasonPhrase(msg string) string {
	line, _, _ := strings.Cut(msg, "\n")
	line = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, line)
	if line == "" {
		return http.StatusText(500)
	}
	return line
}
