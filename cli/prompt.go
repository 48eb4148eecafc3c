package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// ErrNoTerminal is returned when a secret must be asked for but there is
// no terminal.
var ErrNoTerminal = errors.New("no terminal")

// ReadTerminalPassword prints prompt on /dev/tty and reads one line with
// echo turned off (stty -echo); echo is restored afterwards, also on
// SIGINT/SIGTERM.
func ReadTerminalPassword(prompt string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoTerminal, err)
	}
	defer tty.Close()
	stty := func(arg string) error {
		cmd := exec.Command("stty", arg)
		cmd.Stdin = tty
		cmd.Stdout = tty
		return cmd.Run()
	}
	if err := stty("-echo"); err != nil {
		return "", fmt.Errorf("%w: stty -echo: %v", ErrNoTerminal, err)
	}
	sigs := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-sigs:
			_ = stty("echo")
			fmt.Fprintln(tty)
			os.Exit(130)
		case <-done:
		}
	}()
	defer func() {
		signal.Stop(sigs)
		close(done)
		_ = stty("echo")
	}()
	fmt.Fprint(tty, prompt)
	line, err := bufio.NewReader(tty).ReadString('\n')
	fmt.Fprintln(tty)
	if err != nil && line == "" {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
