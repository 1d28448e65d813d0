//go:build integration

package deploy

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestIntegrationLauncherSettings loads queue-manager's configuration from
// each rendered overlay the way the binary does and checks that what the
// launcher will do fits the manifests: the namespace, the ConfigMap and
// ServiceAccounts it names exist; workers get no file setting that their
// Job does not mount; queue-manager and its workers agree on Kafka; both
// serve on the ports they declare.
func TestIntegrationLauncherSettings(t *testing.T) {
	for _, ov := range overlays {
		t.Run(strings.ReplaceAll(ov, "/", "_"), func(t *testing.T) {
			env, _, _ := qmEnv(t, render(t, ov))
			if env["LAUNCHER"] != "kubernetes" { // internal/app.Config.Validate: local or kubernetes
				t.Errorf("LAUNCHER=%q, want kubernetes", env["LAUNCHER"])
			}
			s := newLaunchSetup(t, ov)
			cfg, objs, dep, qm := s.cfg, s.objs, s.dep, s.qm
			if cfg.Namespace != "stf" || cfg.Kubeconfig != "" {
				t.Errorf("KUBE_NAMESPACE=%q KUBECONFIG=%q, want stf and in-cluster", cfg.Namespace, cfg.Kubeconfig)
			}
			if find(objs, "ServiceAccount", cfg.ServiceAccount) == nil {
				t.Errorf("JOB_SERVICE_ACCOUNT=%s is not in the render", cfg.ServiceAccount)
			}
			if dep.Spec.Template.Spec.ServiceAccountName == "" || find(objs, "ServiceAccount", dep.Spec.Template.Spec.ServiceAccountName) == nil {
				t.Errorf("queue-manager's ServiceAccount %q is not in the render", dep.Spec.Template.Spec.ServiceAccountName)
			}
			for k, v := range s.env {
				if strings.HasSuffix(k, "_FILE") && v != "" && !mountedUnder(v, qm.VolumeMounts) {
					t.Errorf("queue-manager %s=%s is not under any of its volume mounts", k, v)
				}
			}
			for k, v := range s.workerEnv {
				if strings.HasSuffix(k, "_FILE") && v != "" && !mountedUnder(v, s.wc.VolumeMounts) {
					t.Errorf("%s: %s=%s, but the launcher's Jobs mount only %v: workers cannot read it", cfg.ConfigMap, k, v, s.wc.VolumeMounts)
				}
			}
			env, workerEnv := s.env, s.workerEnv
			if env["KAFKA_SECURITY_PROTOCOL"] != workerEnv["KAFKA_SECURITY_PROTOCOL"] || env["KAFKA_BOOTSTRAP_SERVERS"] != workerEnv["KAFKA_BOOTSTRAP_SERVERS"] {
				t.Errorf("queue-manager and its workers disagree on Kafka: %s %s vs %s %s", env["KAFKA_SECURITY_PROTOCOL"],
					env["KAFKA_BOOTSTRAP_SERVERS"], workerEnv["KAFKA_SECURITY_PROTOCOL"], workerEnv["KAFKA_BOOTSTRAP_SERVERS"])
			}
			_, port, err := net.SplitHostPort(workerEnv["HTTP_ADDR"])
			if err != nil || port != strconv.Itoa(int(cfg.MetricsPort)) {
				t.Errorf("workers listen on HTTP_ADDR=%q but their Jobs declare metrics port %d", workerEnv["HTTP_ADDR"], cfg.MetricsPort)
			}
			if _, port, _ := net.SplitHostPort(env["HTTP_ADDR"]); len(qm.Ports) == 0 || strconv.Itoa(int(qm.Ports[0].ContainerPort)) != port {
				t.Errorf("queue-manager listens on HTTP_ADDR=%q but declares ports %v", env["HTTP_ADDR"], qm.Ports)
			}
		})
	}
}
