package perm

import (
	"errors"
	"net/http"
	"strings"
)

// Error is a failed permission check as Proxmox reports it: an HTTP status
// and the message text (with Proxmox's trailing newline).
type Error struct {
	// Code is the HTTP status: 403 for a permission failure, 400 for a
	// malformed parameter, 500 for what Proxmox raises with a plain die.
	Code int
	// Message is Proxmox's message, e.g. "Permission check failed (/vms/100, VM.Audit)\n".
	Message string
	// Params holds the per-parameter messages of a 400 error.
	Params map[string]string
}

// Error returns the message without its trailing newline.
func (e *Error) Error() string { return strings.TrimSuffix(e.Message, "\n") }

// IsPermissionDenied reports whether err is (or wraps) a 403 permission error.
func IsPermissionDenied(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Code == http.StatusForbidden
}

// permError is Proxmox's raise_perm_exc(what).
func permError(what string) *Error {
	msg := "Permission check failed"
	if what != "" {
		msg += " (" + what + ")"
	}
	return &Error{Code: http.StatusForbidden, Message: msg + "\n"}
}

// dieError is a plain Perl die inside a check: HTTP 500 with the text.
func dieError(msg string) *Error {
	return &Error{Code: http.StatusInternalServerError, Message: msg + "\n"}
}

func invalidPrivError(name string) *Error {
	return dieError("invalid privilege '" + name + "'")
}

// paramError is a parameter verification failure (400) for one parameter.
func paramError(param, msg string) *Error {
	return &Error{
		Code:    http.StatusBadRequest,
		Message: "Parameter verification failed.\n",
		Params:  map[string]string{param: msg},
	}
}
