package scenario

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Board draws one progress line per step: on a terminal it redraws them in
// place; otherwise it prints the block when a step changes state, and at
// most every Every while they run.
type Board struct {
	Out   io.Writer
	TTY   bool
	Every time.Duration

	drawn  int
	last   time.Time
	states string
}

// Draw shows w.
func (b *Board) Draw(w *Workflow) {
	states := ""
	for _, s := range w.Steps {
		states += s.State + ","
	}
	changed := states != b.states
	if !b.TTY && !changed && time.Since(b.last) < b.Every {
		return
	}
	if b.TTY && !changed && time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.states, b.last = states, time.Now()
	if b.TTY && b.drawn > 0 {
		fmt.Fprintf(b.Out, "\x1b[%dA", b.drawn)
	}
	lines := make([]string, 0, len(w.Steps)+1)
	lines = append(lines, fmt.Sprintf("workflow %s: %s", w.ID, w.State))
	for _, s := range w.Steps {
		lines = append(lines, stepLine(s))
	}
	for _, l := range lines {
		if b.TTY {
			fmt.Fprint(b.Out, "\x1b[2K")
		}
		fmt.Fprintln(b.Out, l)
	}
	if !b.TTY {
		fmt.Fprintln(b.Out)
	}
	b.drawn = len(lines)
}

func stepLine(s *Step) string {
	what := s.Type
	if what == "" || what == s.Kind {
		what = s.Symbol
	}
	pct := s.Percent
	if s.State == "finished" {
		pct = 100
	}
	const width = 24
	fill := int(pct / 100 * width)
	bar := strings.Repeat("#", fill) + strings.Repeat(".", width-fill)
	line := fmt.Sprintf("  %-5s %-16s [%s] %3.0f%%  %10s rec", s.Kind, what, bar, pct, count(s.Records))
	switch s.State {
	case "running":
		if s.Rate > 0 {
			line += fmt.Sprintf("  %8s/s", count(int64(s.Rate)))
		}
		if s.ETA > 0 {
			line += fmt.Sprintf("  ETA %s", (time.Duration(s.ETA) * time.Second).String())
		}
	case "failed", "stopped":
		line += "  " + s.State
		if s.Error != "" {
			line += ": " + s.Error
		}
	default:
		line += "  " + s.State
	}
	if n := len(s.Attempts); n > 1 {
		line += fmt.Sprintf(" (attempt %d)", n)
	}
	return line
}

// count writes n with a k/M suffix.
func count(n int64) string {
	switch {
	case n >= 10_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1_000_000:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
