//go:build integration

package deploy

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// chaosSelector is the Pod selector of a Chaos Mesh experiment (the fields
// deploy/chaos uses): namespaces, labelSelectors and expressionSelectors.
type chaosSelector struct {
	namespaces []string
	labels     labels.Selector
}

// selects reports whether the selector picks a Pod with lbls in namespace.
func (c chaosSelector) selects(namespace string, lbls map[string]string) bool {
	return slices.Contains(c.namespaces, namespace) && c.labels.Matches(labels.Set(lbls))
}

// chaosSelectorAt reads the selector at path in a rendered Chaos Mesh object.
func chaosSelectorAt(t *testing.T, o *unstructured.Unstructured, path ...string) chaosSelector {
	t.Helper()
	m, ok, err := unstructured.NestedMap(o.Object, path...)
	if err != nil || !ok {
		t.Fatalf("%s %s: no selector at %v: %v", o.GetKind(), o.GetName(), path, err)
	}
	var sel struct {
		Namespaces          []string                          `json:"namespaces"`
		LabelSelectors      map[string]string                 `json:"labelSelectors"`
		ExpressionSelectors []metav1.LabelSelectorRequirement `json:"expressionSelectors"`
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &sel); err != nil {
		t.Fatalf("%s %s: selector: %v", o.GetKind(), o.GetName(), err)
	}
	ls, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchLabels: sel.LabelSelectors, MatchExpressions: sel.ExpressionSelectors})
	if err != nil {
		t.Fatalf("%s %s: selector: %v", o.GetKind(), o.GetName(), err)
	}
	if len(sel.Namespaces) == 0 || ls.Empty() {
		t.Fatalf("%s %s: the selector must name namespaces and labels, else it reaches every Pod", o.GetKind(), o.GetName())
	}
	return chaosSelector{namespaces: sel.Namespaces, labels: ls}
}

// TestIntegrationChaosSelectors: the Chaos Mesh experiments in deploy/chaos
// hit what they say, in the lab render and with the launcher's labels. The
// worker pod-kill (alone and in its Schedule) selects the launcher's Job Pods
// and no other Pod; the delay starts from every StreamForge Pod and goes to
// the Strimzi cluster platform/strimzi names; the broker kill selects that
// cluster in its namespace.
func TestIntegrationChaosSelectors(t *testing.T) {
	s := newLaunchSetup(t, ".")
	chaos := render(t, "chaos")
	strimzi := render(t, "../platform/strimzi")
	ns := s.dep.GetNamespace()
	cluster := strimzi[0].GetLabels()["strimzi.io/cluster"]
	kafkaNS := strimzi[0].GetNamespace()
	if cluster == "" || kafkaNS == "" {
		t.Fatalf("platform/strimzi: %s %s names no cluster or namespace", strimzi[0].GetKind(), strimzi[0].GetName())
	}
	get := func(kind, name string) *unstructured.Unstructured {
		o := find(chaos, kind, name)
		if o == nil {
			t.Fatalf("deploy/chaos has no %s %s", kind, name)
		}
		return o
	}
	others := podTemplates(t, s.objs)

	for name, sel := range map[string]chaosSelector{
		"PodChaos worker-pod-kill":        chaosSelectorAt(t, get("PodChaos", "worker-pod-kill"), "spec", "selector"),
		"Schedule worker-pod-kill-weekly": chaosSelectorAt(t, get("Schedule", "worker-pod-kill-weekly"), "spec", "podChaos", "selector"),
	} {
		if !sel.selects(ns, s.job.Spec.Template.Labels) {
			t.Errorf("%s does not select the launcher's worker Pods (namespace %s, labels %v)", name, ns, s.job.Spec.Template.Labels)
		}
		for pod, pt := range others {
			if sel.selects(ns, pt.Labels) {
				t.Errorf("%s would kill %s, which is not a worker the launcher started", name, pod)
			}
		}
	}

	delay := get("NetworkChaos", "kafka-delay")
	from := chaosSelectorAt(t, delay, "spec", "selector")
	for pod, pt := range s.pods(t) {
		if !from.selects(ns, pt.Labels) {
			t.Errorf("NetworkChaos kafka-delay does not delay %s (labels %v)", pod, pt.Labels)
		}
	}
	broker := map[string]string{"strimzi.io/cluster": cluster, "strimzi.io/kind": "Kafka", "strimzi.io/broker-role": "true"}
	if to := chaosSelectorAt(t, delay, "spec", "target", "selector"); !to.selects(kafkaNS, broker) {
		t.Errorf("NetworkChaos kafka-delay does not target the brokers of %s/%s", kafkaNS, cluster)
	}
	if kill := chaosSelectorAt(t, get("PodChaos", "broker-pod-kill"), "spec", "selector"); !kill.selects(kafkaNS, broker) {
		t.Errorf("PodChaos broker-pod-kill does not select the brokers of %s/%s", kafkaNS, cluster)
	}
}
