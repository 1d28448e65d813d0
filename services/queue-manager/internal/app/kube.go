package app

import (
	"fmt"

	"k8s.io/client-go/kubernetes"

	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/kube"
)

// kubeLauncher returns the Kubernetes launcher and its client: KUBECONFIG
// when set, else the in-cluster service account.
func kubeLauncher(rt *service.Runtime, cfg kube.Config) (launch.Launcher, kubernetes.Interface, error) {
	rc, err := cfg.RESTConfig()
	if err != nil {
		return nil, nil, err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes client: %w", err)
	}
	l, err := kube.New(client, cfg, kube.WithLogger(rt.Log))
	return l, client, err
}
