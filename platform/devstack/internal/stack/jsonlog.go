package stack

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
)

// jsonLines keeps a log one JSON object per line: queue-manager's and its
// workers' zerolog lines pass through unchanged; any other line (klog's,
// a panic's stack, a library's print, a configuration error written before
// the logger exists) is wrapped as {"time","level","message","unstructured":
// true} so that jq reads the whole file. Safe for concurrent use.
type jsonLines struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	now func() time.Time
}

func newJSONLines(w io.Writer) *jsonLines { return &jsonLines{w: w, now: time.Now} }

// Write buffers p and writes every complete line.
func (j *jsonLines) Write(p []byte) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf = append(j.buf, p...)
	for {
		i := bytes.IndexByte(j.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := j.buf[:i]
		j.buf = j.buf[i+1:]
		if err := j.line(line); err != nil {
			return len(p), err
		}
	}
}

// Flush writes a last line that has no newline.
func (j *jsonLines) Flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.buf) == 0 {
		return nil
	}
	line := j.buf
	j.buf = nil
	return j.line(line)
}

func (j *jsonLines) line(line []byte) error {
	line = bytes.TrimRight(line, "\r")
	if len(bytes.TrimSpace(line)) == 0 {
		return nil
	}
	if line[0] == '{' && json.Valid(line) {
		_, err := j.w.Write(append(line, '\n'))
		return err
	}
	level, msg := plainLevel(string(line))
	b, err := json.Marshal(struct {
		Time         string `json:"time"`
		Level        string `json:"level"`
		Service      string `json:"service,omitempty"`
		Message      string `json:"message"`
		Unstructured bool   `json:"unstructured"`
	}{j.now().UTC().Format(time.RFC3339Nano), level, serviceOf(msg), msg, true})
	if err != nil {
		return err
	}
	_, err = j.w.Write(append(b, '\n'))
	return err
}

// plainLevel reads a level from a plain line: klog's header (I, W, E or F
// then mmdd, "I1207 01:02:03.123456 ..."), else a panic or fatal error, else
// info.
func plainLevel(s string) (level, msg string) {
	if len(s) > 5 && isDigits(s[1:5]) {
		switch s[0] {
		case 'I':
			return "info", s
		case 'W':
			return "warn", s
		case 'E':
			return "error", s
		case 'F':
			return "fatal", s
		}
	}
	for _, p := range []string{"panic:", "fatal error:", "goroutine "} {
		if len(s) >= len(p) && s[:len(p)] == p {
			return "error", s
		}
	}
	return "info", s
}

// serviceOf reads the service from a line a service writes before its
// logger exists ("loader-producer: configuration: SYMBOL: ..."): a name of
// the services table followed by ": ".
func serviceOf(line string) string {
	name, _, ok := strings.Cut(line, ": ")
	if !ok || !slices.Contains(protocol.ServiceNames(nil), name) {
		return ""
	}
	return name
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
