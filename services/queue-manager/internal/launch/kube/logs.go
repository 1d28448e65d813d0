package kube

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

var _ launch.Logs = (*Launcher)(nil)

// Logs returns the worker container's log of the run's latest Pod (the
// Pods' API, GetLogs); with follow it streams until the container ends.
// ErrNoLogs when the run has no Pod (not scheduled yet, or deleted with
// its Job).
func (k *Launcher) Logs(ctx context.Context, id string, follow bool) (io.ReadCloser, error) {
	pods, err := k.client.CoreV1().Pods(k.cfg.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.Set{LabelApp: appName, LabelRun: runLabel(id)}.String(),
	})
	if err != nil {
		return nil, fmt.Errorf("logs of %s: list pods: %w", id, err)
	}
	var pod *corev1.Pod
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Annotations[AnnotationRunID] != id {
			continue // another run whose label value collided
		}
		if pod == nil || p.CreationTimestamp.After(pod.CreationTimestamp.Time) {
			pod = p
		}
	}
	if pod == nil {
		return nil, launch.ErrNoLogs
	}
	rc, err := k.client.CoreV1().Pods(k.cfg.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: containerName, Follow: follow}).Stream(ctx)
	if err != nil {
		return nil, fmt.Errorf("logs of %s: pod %s: %w", id, pod.Name, err)
	}
	return rc, nil
}
