package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

var _ launch.Logs = (*Launcher)(nil)

// logPath is where the output of run is kept.
func (l *Launcher) logPath(run string) string { return filepath.Join(l.o.LogDir, run+".log") }

// output returns where a child writes: Output, and with LogDir a file of its
// own, which the returned function closes once the child has exited.
func (l *Launcher) output(run string) (io.Writer, func(), error) {
	out := l.o.Output
	if out == nil {
		out = io.Discard
	}
	if l.o.LogDir == "" {
		return out, func() {}, nil
	}
	if err := os.MkdirAll(l.o.LogDir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("step logs: %w", err)
	}
	f, err := os.OpenFile(l.logPath(run), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("step logs: %w", err)
	}
	return io.MultiWriter(out, f), func() { _ = f.Close() }, nil
}

// Logs returns the output of run kept under LogDir; with follow the reader
// waits for more while the run is alive, and ends when it has ended and
// everything was read, or when ctx ends.
func (l *Launcher) Logs(ctx context.Context, run string, follow bool) (io.ReadCloser, error) {
	if l.o.LogDir == "" || filepath.Base(run) != run {
		return nil, launch.ErrNoLogs
	}
	f, err := os.Open(l.logPath(run))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, launch.ErrNoLogs
	}
	if err != nil {
		return nil, err
	}
	if !follow {
		return f, nil
	}
	return &tail{ctx: ctx, f: f, alive: func() bool { return l.alive(run) }}, nil
}

// alive reports whether run is a child that has not exited.
func (l *Launcher) alive(run string) bool {
	l.mu.Lock()
	p, ok := l.procs[run]
	l.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// tailPoll is how often a followed log is read again at its end.
const tailPoll = 200 * time.Millisecond

// tail reads a growing file until its writer is gone.
type tail struct {
	ctx   context.Context
	f     *os.File
	alive func() bool
}

func (t *tail) Read(p []byte) (int, error) {
	for {
		n, err := t.f.Read(p)
		if n > 0 || !errors.Is(err, io.EOF) {
			return n, err
		}
		if !t.alive() {
			// It may have written its last lines after the read above.
			if n, _ = t.f.Read(p); n > 0 {
				return n, nil
			}
			return 0, io.EOF
		}
		select {
		case <-t.ctx.Done():
			return 0, io.EOF
		case <-time.After(tailPoll):
		}
	}
}

func (t *tail) Close() error { return t.f.Close() }

// lastLine keeps the last non-empty line written to it (at most
// lastLineMax bytes of it).
type lastLine struct {
	mu   sync.Mutex
	cur  []byte // the line being written
	done string // the last complete non-empty line
}

const lastLineMax = 500

func (l *lastLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range p {
		if c == '\n' {
			if line := strings.TrimSpace(string(l.cur)); line != "" {
				l.done = line
			}
			l.cur = l.cur[:0]
			continue
		}
		if len(l.cur) < lastLineMax {
			l.cur = append(l.cur, c)
		}
	}
	return len(p), nil
}

// String returns the last non-empty line.
func (l *lastLine) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if line := strings.TrimSpace(string(l.cur)); line != "" {
		return line
	}
	return l.done
}
