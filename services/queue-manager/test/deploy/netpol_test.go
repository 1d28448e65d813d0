//go:build integration

package deploy

import (
	"net"
	"strconv"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// TestIntegrationNetworkPolicies: each Pod, the launcher's Jobs included,
// is selected by a policy that lets it reach the Kafka port and resolve
// names; the worker metrics port is open to the monitoring namespace and
// queue-manager to the gateway; queue-manager may reach the API server and
// the workers may not.
func TestIntegrationNetworkPolicies(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, s *launchSetup) {
		workerEnv, cfg, job, dep := s.workerEnv, s.cfg, s.job, s.dep
		_, kafkaPort, err := net.SplitHostPort(strings.Split(workerEnv["KAFKA_BOOTSTRAP_SERVERS"], ",")[0])
		if err != nil {
			t.Fatalf("KAFKA_BOOTSTRAP_SERVERS=%q: %v", workerEnv["KAFKA_BOOTSTRAP_SERVERS"], err)
		}
		var pols []networkingv1.NetworkPolicy
		for _, o := range s.objs {
			if o.GetKind() == "NetworkPolicy" {
				pols = append(pols, *convert[networkingv1.NetworkPolicy](t, o))
			}
		}
		for name, pt := range s.pods(t) {
			lbls := pt.Labels
			if !egressAllows(t, pols, lbls, kafkaPort) {
				t.Errorf("%s (labels %v): no NetworkPolicy lets it reach Kafka on port %s", name, lbls, kafkaPort)
			}
			if !egressAllows(t, pols, lbls, "53") {
				t.Errorf("%s: no NetworkPolicy lets it resolve names", name)
			}
		}
		if !ingressAllows(t, pols, job.Spec.Template.Labels, strconv.Itoa(int(cfg.MetricsPort))) {
			t.Errorf("no NetworkPolicy lets Prometheus scrape the workers' metrics port %d", cfg.MetricsPort)
		}
		if !ingressAllows(t, pols, dep.Spec.Template.Labels, strconv.Itoa(int(s.qm.Ports[0].ContainerPort))) {
			t.Error("no NetworkPolicy lets the gateway reach queue-manager")
		}
		if !egressAllows(t, pols, dep.Spec.Template.Labels, "6443") || !egressAllows(t, pols, dep.Spec.Template.Labels, "443") {
			t.Error("queue-manager may not reach the API server (443/6443)")
		}
		if egressAllows(t, pols, job.Spec.Template.Labels, "6443") {
			t.Error("worker Pods may reach the API server port 6443; they never need it")
		}
	})
}

func selects(t *testing.T, p networkingv1.NetworkPolicy, lbls map[string]string) bool {
	t.Helper()
	sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
	if err != nil {
		t.Fatalf("NetworkPolicy %s: %v", p.Name, err)
	}
	return sel.Matches(labels.Set(lbls))
}

func portsAllow(ports []networkingv1.NetworkPolicyPort, port string) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Port == nil || p.Port.String() == port {
			return true
		}
	}
	return false
}

func egressAllows(t *testing.T, pols []networkingv1.NetworkPolicy, lbls map[string]string, port string) bool {
	for _, p := range pols {
		if !selects(t, p, lbls) {
			continue
		}
		for _, r := range p.Spec.Egress {
			if portsAllow(r.Ports, port) {
				return true
			}
		}
	}
	return false
}

func ingressAllows(t *testing.T, pols []networkingv1.NetworkPolicy, lbls map[string]string, port string) bool {
	for _, p := range pols {
		if !selects(t, p, lbls) {
			continue
		}
		for _, r := range p.Spec.Ingress {
			if portsAllow(r.Ports, port) {
				return true
			}
		}
	}
	return false
}
