package app

import (
	"context"
	"errors"

	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// kubeLauncher returns the Kubernetes launcher.
func kubeLauncher(context.Context, *service.Runtime) (launch.Launcher, error) {
	return nil, errors.New("LAUNCHER=kubernetes: the Kubernetes launcher is not wired in this build yet (issue #5)")
}
