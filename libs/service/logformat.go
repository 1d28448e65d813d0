package service

import (
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// logWriter is where a service's log goes: JSON lines, one object per line,
// for files, pipes and log collectors; a readable, coloured line when w is a
// terminal (a person running the binary by hand).
func logWriter(w io.Writer) io.Writer {
	if !isTerminal(w) {
		return w
	}
	return zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
}

// isTerminal asks the terminal driver: /dev/null is a character device too,
// but not a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
