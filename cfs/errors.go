package cfs

import (
	"errors"
	"fmt"
)

// Error is a command failure with the HTTP status and Proxmox message the
// API answers with. It travels through the log result, never as a panic.
type Error struct {
	Status  int    `json:"status"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Error codes that callers act on.
const (
	// CodeLockBusy: a lock is held by another owner; the caller may retry.
	CodeLockBusy = "lock-busy"
	// CodeNotFound: the path does not exist (ENOENT).
	CodeNotFound = "not-found"
	// CodeExists: the path already exists (EEXIST).
	CodeExists = "exists"
	// CodeDigest: the digest given does not match the current content.
	CodeDigest = "digest"
	// CodeFence: a write names a lock it does not hold.
	CodeFence = "fence"
	// CodeInvalid: the request itself is malformed.
	CodeInvalid = "invalid"
)

// DigestMismatch is Proxmox's assert_if_modified message.
const DigestMismatch = "detected modified configuration - file changed by other user? Try again.\n"

// AsError converts any error into an *Error (status 500 unless it is one).
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: 500, Message: err.Error()}
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Errorf builds an *Error with status and code.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errNotFound(p string) *Error {
	return Errorf(500, CodeNotFound, "'%s' does not exist", p)
}

func errNotDir(p string) *Error {
	return Errorf(500, CodeInvalid, "'%s' is not a directory", p)
}
