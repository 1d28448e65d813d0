//go:build integration

package deploy

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// TestIntegrationLimitRangeAdmitsEveryContainer: a resource with a max in
// the LimitRange needs a limit, the container's own or the range's default
// (the API server's LimitRanger rejects the Pod otherwise), within the max;
// for every Pod of the render and the launcher's Jobs.
func TestIntegrationLimitRangeAdmitsEveryContainer(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, s *launchSetup) {
		pods := s.pods(t)
		for _, o := range s.objs {
			if o.GetKind() != "LimitRange" {
				continue
			}
			lr := convert[corev1.LimitRange](t, o)
			for _, item := range lr.Spec.Limits {
				if item.Type != corev1.LimitTypeContainer {
					continue
				}
				for res, max := range item.Max {
					for name, pt := range pods {
						for _, c := range pt.Spec.Containers {
							lim, ok := c.Resources.Limits[res]
							if !ok {
								lim, ok = item.Default[res]
							}
							if !ok {
								t.Errorf("LimitRange %s: max %s %s, but %s container %s has no %s limit and the range no default: the Pod would be rejected",
									lr.Name, res, max.String(), name, c.Name, res)
							} else if lim.Cmp(max) > 0 {
								t.Errorf("LimitRange %s: %s container %s limit %s %s is over the max %s", lr.Name, name, c.Name, res, lim.String(), max.String())
							}
						}
					}
				}
			}
		}
	})
}

// TestIntegrationSelectorsMatchQueueManager: the Service and the
// PodDisruptionBudget select queue-manager's Pods.
func TestIntegrationSelectorsMatchQueueManager(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, s *launchSetup) {
		objs, dep := s.objs, s.dep
		svc := convert[corev1.Service](t, find(objs, "Service", "queue-manager"))
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(dep.Spec.Template.Labels)) {
			t.Errorf("Service selector %v does not match queue-manager's Pods %v", svc.Spec.Selector, dep.Spec.Template.Labels)
		}
		pdbU := find(objs, "PodDisruptionBudget", "queue-manager")
		if pdbU == nil {
			t.Fatal("no PodDisruptionBudget queue-manager")
		}
		sel, _, _ := unstructured.NestedStringMap(pdbU.Object, "spec", "selector", "matchLabels")
		if !labels.SelectorFromSet(sel).Matches(labels.Set(dep.Spec.Template.Labels)) {
			t.Errorf("PodDisruptionBudget selector %v does not match queue-manager's Pods", sel)
		}
	})
}
