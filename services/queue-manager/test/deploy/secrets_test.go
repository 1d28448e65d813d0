//go:build integration

package deploy

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/streamforge/streamforge/libs/protocol"
)

// TestIntegrationSecretsExist: every Secret and key queue-manager and its
// workers are given is in the render, synced by a SecretProviderClass, or
// among the Kafka secrets platform/strimzi/copy-kafka-secrets.sh copies:
// JOB_SECRET, queue-manager's secret references, the Kafka CA the workers
// verify the brokers with (and its mount), and each worker service's own
// Kafka login.
func TestIntegrationSecretsExist(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, s *launchSetup) {
		cfg, objs, workerEnv, wc := s.cfg, s.objs, s.workerEnv, s.wc
		if _, ok := secretKeys(t, objs, cfg.Secret); !ok {
			t.Errorf("JOB_SECRET=%s is neither a Secret nor synced by a SecretProviderClass in the render", cfg.Secret)
		}
		for name, ref := range s.secretRefs {
			keys, ok := secretKeys(t, objs, ref.Name)
			if !ok || !keys[ref.Key] {
				t.Errorf("queue-manager env %s: key %s of Secret %s is not in the render", name, ref.Key, ref.Name)
			}
		}
		if strings.Contains(workerEnv["KAFKA_SECURITY_PROTOCOL"], "SSL") {
			// Workers verify the brokers: the launcher mounts the CA
			// Secret and points KAFKA_CA_FILE at it.
			if cfg.KafkaCASecret == "" {
				t.Errorf("workers use %s but JOB_KAFKA_CA_SECRET is empty: they would trust only the image's system roots", workerEnv["KAFKA_SECURITY_PROTOCOL"])
			} else if keys, ok := secretKeys(t, objs, cfg.KafkaCASecret); !ok || !keys["ca.crt"] {
				t.Errorf("JOB_KAFKA_CA_SECRET=%s: no such Secret with ca.crt in the render or among the copied Kafka secrets", cfg.KafkaCASecret)
			}
			caFile := ""
			for _, e := range wc.Env {
				if e.Name == "KAFKA_CA_FILE" {
					caFile = e.Value
				}
			}
			if caFile == "" || !mountedUnder(caFile, wc.VolumeMounts) {
				t.Errorf("workers' KAFKA_CA_FILE=%q is not under their mounts %v", caFile, wc.VolumeMounts)
			}
		}
		if strings.Contains(workerEnv["KAFKA_SECURITY_PROTOCOL"], "SASL") && cfg.ServiceSecretPrefix != "" {
			// Each worker service logs in as its own KafkaUser.
			for _, svc := range protocol.ServiceNames(protocol.IsWorker) {
				if keys, ok := secretKeys(t, objs, cfg.ServiceSecretPrefix+svc); !ok || !keys["KAFKA_PASSWORD"] {
					t.Errorf("JOB_SERVICE_SECRET_PREFIX=%s: %s has no Secret with KAFKA_PASSWORD", cfg.ServiceSecretPrefix, svc)
				}
			}
		}
	})
}

// copiedKafkaSecrets returns the Secrets platform/strimzi/copy-kafka-secrets.sh
// creates in the StreamForge namespace, with their keys: the cluster CA and
// one per service's KafkaUser. They live outside the render, made from what
// Strimzi's operators write. The script's default list of services is
// generated from protocol.Services (make lint checks it is current).
func copiedKafkaSecrets() map[string]map[string]bool {
	out := map[string]map[string]bool{"streamforge-kafka-ca": {"ca.crt": true}}
	for _, svc := range protocol.Services {
		out["streamforge-kafka-"+svc.Name] = map[string]bool{"KAFKA_USERNAME": true, "KAFKA_PASSWORD": true}
	}
	return out
}

func secretKeys(t *testing.T, objs []*unstructured.Unstructured, name string) (map[string]bool, bool) {
	t.Helper()
	if keys, ok := copiedKafkaSecrets()[name]; ok {
		return keys, true
	}
	if u := find(objs, "Secret", name); u != nil {
		s := convert[corev1.Secret](t, u)
		keys := map[string]bool{}
		for k := range s.Data {
			keys[k] = true
		}
		for k := range s.StringData {
			keys[k] = true
		}
		return keys, true
	}
	for _, o := range objs {
		if o.GetKind() != "SecretProviderClass" {
			continue
		}
		sos, _, _ := unstructured.NestedSlice(o.Object, "spec", "secretObjects")
		for _, so := range sos {
			m, _ := so.(map[string]any)
			if m["secretName"] != name {
				continue
			}
			keys := map[string]bool{}
			data, _ := m["data"].([]any)
			for _, d := range data {
				if dm, ok := d.(map[string]any); ok {
					keys[fmt.Sprint(dm["key"])] = true
				}
			}
			return keys, true
		}
	}
	return nil, false
}
