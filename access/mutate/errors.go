package mutate

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/pvecfs/pvecfs/cfs"
)

// CodeParam is the cfs.Error code of a parameter error that crossed the log:
// its Message is ParamError's text, which AsParamError reads back.
const CodeParam = "param"

// paramMessage is Proxmox's message for parameter errors.
const paramMessage = "Parameter verification failed.\n"

// ParamError is a parameter verification failure (HTTP 400, "Parameter
// verification failed.") with one Proxmox message per parameter, as
// raise_param_exc reports it. Pure functions return it directly; handlers
// turn it into a *cfs.Error with Code CodeParam (see AsParamError).
type ParamError struct {
	// Errors maps a parameter name to its message.
	Errors map[string]string
}

// Error renders the error as PVE::Exception does: the message, then one
// "param: message" line per parameter, sorted by parameter.
func (e *ParamError) Error() string {
	keys := make([]string, 0, len(e.Errors))
	for k := range e.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(paramMessage)
	for _, k := range keys {
		b.WriteString(k + ": " + oneLine(e.Errors[k]) + "\n")
	}
	return b.String()
}

// oneLine drops a message's trailing newline and joins inner lines, so that
// each parameter stays on one line of the rendered text.
func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", " ")
}

// AsParamError reports whether err is a parameter error: a *ParamError, or a
// *cfs.Error with Code CodeParam (how a handler's ParamError comes back from
// the log). The messages read back lose a trailing newline.
func AsParamError(err error) (*ParamError, bool) {
	var pe *ParamError
	if errors.As(err, &pe) {
		return pe, true
	}
	var ce *cfs.Error
	if !errors.As(err, &ce) || ce.Code != CodeParam {
		return nil, false
	}
	out := &ParamError{Errors: map[string]string{}}
	rest := strings.TrimPrefix(ce.Message, paramMessage)
	for _, line := range strings.Split(rest, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			out.Errors[k] = v
		}
	}
	return out, true
}

func paramErr(param, msg string) *ParamError {
	return &ParamError{Errors: map[string]string{param: msg}}
}

// formatErr is JSONSchema's error for a value failing its format verifier.
func formatErr(param string, err error) *ParamError {
	return paramErr(param, "invalid format - "+strings.TrimRight(err.Error(), "\n")+"\n")
}

// die is a plain Proxmox die: HTTP 500 with the text and its newline.
func die(code, format string, args ...any) *cfs.Error {
	msg := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	return &cfs.Error{Status: http.StatusInternalServerError, Code: code, Message: msg}
}

// invalid is a malformed command (HTTP 400) that the REST layer should have
// refused before the log, e.g. a clear secret where a hash belongs.
func invalid(format string, args ...any) *cfs.Error {
	return cfs.Errorf(http.StatusBadRequest, cfs.CodeInvalid, format, args...)
}

// locked wraps an error raised inside lock_user_config (or another lock
// wrapper) with its prefix: "<prefix>: <error>". A parameter error becomes a
// plain string there, as in Proxmox: HTTP 500 with "400 Parameter
// verification failed.\n<param>: <message>\n" after the prefix.
func locked(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var pe *ParamError
	if errors.As(err, &pe) {
		return die("", "%s: 400 %s", prefix, pe.Error())
	}
	var ce *cfs.Error
	if errors.As(err, &ce) {
		msg := ce.Message
		if !strings.HasSuffix(msg, "\n") {
			msg += "\n"
		}
		return &cfs.Error{Status: http.StatusInternalServerError, Code: ce.Code, Message: prefix + ": " + msg}
	}
	return die("", "%s: %s", prefix, err.Error())
}

// toCfsError converts a mutation error into what a handler returns: a
// *cfs.Error (a ParamError gets status 400 and Code CodeParam).
func toCfsError(err error) error {
	var pe *ParamError
	if errors.As(err, &pe) {
		return &cfs.Error{Status: http.StatusBadRequest, Code: CodeParam, Message: pe.Error()}
	}
	var ce *cfs.Error
	if errors.As(err, &ce) {
		return ce
	}
	return die("", "%s", err.Error())
}
