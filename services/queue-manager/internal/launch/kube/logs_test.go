package kube

import (
	"errors"
	"io"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// TestLogsReadsTheRunsPod: the logs of a run are its Pod's (client-go's
// fake answers GetLogs with "fake logs"); a run without a Pod has none.
func TestLogsReadsTheRunsPod(t *testing.T) {
	s := testSpec()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p1", Namespace: "stf",
		Labels: map[string]string{LabelApp: appName, LabelRun: runLabel(s.ID)}, Annotations: map[string]string{AnnotationRunID: s.ID}}}
	k := newTestLauncher(t, fake.NewClientset(pod))
	rc, err := k.Logs(t.Context(), s.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil || string(b) != "fake logs" {
		t.Errorf("logs %q (%v), want the pod's", b, err)
	}
	if _, err := k.Logs(t.Context(), s.ID+"x", false); !errors.Is(err, launch.ErrNoLogs) {
		t.Errorf("logs of a run without a pod: %v, want ErrNoLogs", err)
	}
}
