package app

import (
	"fmt"

	"k8s.io/client-go/kubernetes"

	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/kube"
)

// kubeLauncher returns the Kubernetes launcher: KUBECONFIG when set, else
// the in-cluster service account.
func kubeLauncher(rt *service.Runtime, cfg kube.Config) (launch.Launcher, error) {
	rc, err := cfg.RESTConfig()
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return kube.New(client, cfg, kube.WithLogger(rt.Log))
}
