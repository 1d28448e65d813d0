package stack

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
)

// BusConfig is a client configuration for the stack's broker (plaintext,
// as the embedded broker and the integration broker's plain listener are).
func (s *Stack) BusConfig() bus.Config {
	return bus.Config{BootstrapServers: s.Kafka, SecurityProtocol: bus.Plaintext, SASLMechanism: bus.ScramSHA512,
		DialTimeout: 10 * time.Second}
}

// QueueManagerPID returns queue-manager's process id (0 before Up).
func (s *Stack) QueueManagerPID() int {
	if s.qm == nil || s.qm.Process == nil {
		return 0
	}
	return s.qm.Process.Pid
}

// Workers returns the process ids of queue-manager's live children: the
// workers its local launcher runs (one per running step). It reads /proc,
// so it works on Linux only.
func (s *Stack) Workers() ([]int, error) {
	if s.qm == nil || s.qm.Process == nil {
		return nil, nil
	}
	parent := s.qm.Process.Pid
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue // the process ended meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses,
		// so read after its last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		var state string
		var ppid int
		if _, err := fmt.Sscan(string(b[i+1:]), &state, &ppid); err != nil || ppid != parent || state == "Z" {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(st)))
		if err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
