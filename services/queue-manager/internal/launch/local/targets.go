package local

import (
	"context"
	"net"
	"sort"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// freeAddr returns a loopback address whose port nothing listens on now.
// The child binds it a moment later; another process taking the port in
// between makes the child exit at start, which the engine sees as a failed
// attempt and relaunches on a new port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// Targets lists the metrics address of every child still running, with
// the labels that identify its step (launch.TargetOf), sorted by address.
func (l *Launcher) Targets(context.Context) []launch.Target {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]launch.Target, 0, len(l.procs))
	for _, p := range l.procs {
		select {
		case <-p.done:
			continue
		default:
		}
		out = append(out, p.target)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out
}
