package stack

import (
	"context"
	"errors"
	"syscall"
	"time"
)

// KillQueueManager ends queue-manager with SIGKILL, as a crashed pod or a
// node lost would, and waits until it is gone. The workers the local
// launcher started end with it (they are tied to its life).
func (s *Stack) KillQueueManager() error {
	if s.qm == nil || s.qm.Process == nil {
		return errors.New("queue-manager is not running")
	}
	if err := s.qm.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-s.qmDone
	return nil
}

// StartQueueManager starts queue-manager again with the stack's settings
// (its store holds what it knew) and waits until it answers.
func (s *Stack) StartQueueManager(ctx context.Context) error {
	if err := s.qmStart(); err != nil {
		return err
	}
	return s.waitReady(ctx, 60*time.Second)
}

// QueueManagerRunning reports whether queue-manager's process is alive.
func (s *Stack) QueueManagerRunning() bool {
	select {
	case <-s.qmDone:
		return false
	default:
		return true
	}
}
