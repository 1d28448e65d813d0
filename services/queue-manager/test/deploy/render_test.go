//go:build integration

// Package deploy checks the Kubernetes manifests in deploy/ (kustomize base,
// components and overlays) against the code that runs in them and against a
// real kube-apiserver (platform/kube/kube.sh):
//
//	platform/kube/kube.sh start && eval "$(platform/kube/kube.sh env)"
//	go test -tags integration -count=1 -run 'Real|Integration' ./test/deploy/
//
// The rendering and consistency tests need only kustomize v5.7.1 on PATH
// (GOBIN=$PWD/.cache/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.7.1);
// the API server tests need KUBE_IT=1 and KUBECONFIG. In CI (CI=true or
// KUBE_IT=1) a missing kustomize fails instead of skipping.
package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kelseyhightower/envconfig"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/kube"
)

// Overlays are every kustomization a person may apply; "." is deploy/ itself
// (the GitOps root, the lab).
var overlays = []string{".", "overlays/lab", "overlays/lab-vault", "overlays/minimal"}

// kustomizeVersion is the version the project pins (newer ones need Go 1.27).
const kustomizeVersion = "v5.7.1"

// inCI reports whether a missing tool must fail rather than skip.
func inCI() bool { return os.Getenv("CI") == "true" || os.Getenv("KUBE_IT") == "1" }

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.work) not found above the test directory")
		}
		dir = parent
	}
}

var (
	kustomizeOnce sync.Once
	kustomizePath string
	kustomizeErr  error
	renders       sync.Map // overlay -> []*unstructured.Unstructured
)

func kustomizeBin(t *testing.T) string {
	t.Helper()
	kustomizeOnce.Do(func() {
		p, err := exec.LookPath("kustomize")
		if err != nil {
			// make and .ci/run put the project's tool directory on PATH; a
			// bare `go test` may not have it.
			cand := filepath.Join(repoRoot(t), ".cache", "bin", "kustomize")
			if _, serr := os.Stat(cand); serr != nil {
				kustomizeErr = fmt.Errorf("kustomize not on PATH nor in .cache/bin (GOBIN=$PWD/.cache/bin go install sigs.k8s.io/kustomize/kustomize/v5@%s)", kustomizeVersion)
				return
			}
			p = cand
		}
		out, err := exec.Command(p, "version").CombinedOutput()
		if err != nil {
			kustomizeErr = fmt.Errorf("kustomize version: %v: %s", err, out)
			return
		}
		if v := strings.TrimSpace(string(out)); !strings.Contains(v, kustomizeVersion) {
			kustomizeErr = fmt.Errorf("kustomize %s at %s, want %s", v, p, kustomizeVersion)
			return
		}
		kustomizePath = p
	})
	if kustomizeErr != nil {
		if inCI() {
			t.Fatal(kustomizeErr)
		}
		t.Skip(kustomizeErr)
	}
	return kustomizePath
}

// render runs kustomize build on deploy/<overlay> and decodes every object.
func render(t *testing.T, overlay string) []*unstructured.Unstructured {
	t.Helper()
	if v, ok := renders.Load(overlay); ok {
		return v.([]*unstructured.Unstructured)
	}
	bin := kustomizeBin(t)
	dir := filepath.Join(repoRoot(t), "deploy", overlay)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "build", dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kustomize build deploy/%s: %v\n%s", overlay, err, stderr.String())
	}
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(&stdout, 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("deploy/%s: decode: %v", overlay, err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	if len(objs) == 0 {
		t.Fatalf("deploy/%s rendered nothing", overlay)
	}
	renders.Store(overlay, objs)
	return objs
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

func convert[T any](t *testing.T, u *unstructured.Unstructured) *T {
	t.Helper()
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, out, true); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
	return out
}

// coreGroups are the API groups kube-apiserver serves itself; everything
// else in the render is a custom resource the harness has no CRD for.
var coreGroups = map[string]bool{
	"": true, "apps": true, "batch": true, "policy": true, "rbac.authorization.k8s.io": true,
	"networking.k8s.io": true, "autoscaling": true, "storage.k8s.io": true, "scheduling.k8s.io": true,
}

func isCore(u *unstructured.Unstructured) bool {
	return coreGroups[u.GroupVersionKind().Group]
}

// podTemplates returns every Pod template in the render, by "Kind/name",
// custom resources included (a KEDA ScaledJob carries one).
func podTemplates(t *testing.T, objs []*unstructured.Unstructured) map[string]corev1.PodTemplateSpec {
	t.Helper()
	out := map[string]corev1.PodTemplateSpec{}
	for _, o := range objs {
		var path []string
		switch o.GetKind() {
		case "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet":
			path = []string{"spec", "template"}
		case "CronJob":
			path = []string{"spec", "jobTemplate", "spec", "template"}
		case "ScaledJob":
			path = []string{"spec", "jobTargetRef", "template"}
		case "Rollout":
			if _, ok, _ := unstructured.NestedMap(o.Object, "spec", "template"); ok {
				path = []string{"spec", "template"}
			}
		}
		if path == nil {
			continue
		}
		m, ok, err := unstructured.NestedMap(o.Object, path...)
		if err != nil || !ok {
			t.Fatalf("%s %s: no pod template at %v: %v", o.GetKind(), o.GetName(), path, err)
		}
		var pt corev1.PodTemplateSpec
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(m, &pt, true); err != nil {
			t.Fatalf("%s %s: pod template: %v", o.GetKind(), o.GetName(), err)
		}
		out[o.GetKind()+"/"+o.GetName()] = pt
	}
	return out
}

// TestIntegrationRender: every overlay renders with kustomize v5.7.1, into
// one namespace, with fully qualified images and restricted security
// contexts; custom resources are listed (validated elsewhere against their
// projects' schemas, not by this API server).
func TestIntegrationRender(t *testing.T) {
	for _, ov := range overlays {
		t.Run(strings.ReplaceAll(ov, "/", "_"), func(t *testing.T) {
			objs := render(t, ov)
			kinds := map[string]int{}
			var crds []string
			for _, o := range objs {
				kinds[o.GetKind()]++
				if !isCore(o) {
					crds = append(crds, o.GetAPIVersion()+" "+o.GetKind()+"/"+o.GetName())
				}
				// deploy/ itself adds Fluent Bit's configuration (deploy/logging)
				// in the logging namespace.
				if o.GetKind() != "Namespace" && o.GetNamespace() != "stf" && !(ov == "." && o.GetNamespace() == "logging") {
					t.Errorf("%s %s: namespace %q, want stf", o.GetKind(), o.GetName(), o.GetNamespace())
				}
				if o.GetLabels()["app.kubernetes.io/part-of"] != "streamforge" {
					t.Errorf("%s %s: no app.kubernetes.io/part-of=streamforge label", o.GetKind(), o.GetName())
				}
			}
			for _, want := range []string{"Namespace", "Deployment", "Service", "ServiceAccount", "Role", "RoleBinding",
				"ConfigMap", "LimitRange", "PodDisruptionBudget", "NetworkPolicy"} {
				if kinds[want] == 0 {
					t.Errorf("no %s in deploy/%s", want, ov)
				}
			}
			if kinds["HTTPRoute"]+kinds["Ingress"] != 1 {
				t.Errorf("deploy/%s has %d HTTPRoutes and %d Ingresses, want exactly one way in", ov, kinds["HTTPRoute"], kinds["Ingress"])
			}
			if kinds["Secret"]+kinds["SecretProviderClass"] == 0 {
				t.Errorf("deploy/%s has neither the Secret nor a SecretProviderClass", ov)
			}
			for name, pt := range podTemplates(t, objs) {
				checkPodSecurity(t, name, pt.Spec)
			}
			sort.Strings(crds)
			t.Logf("deploy/%s: %d objects; custom resources (not served by the API server harness): %s", ov, len(objs), strings.Join(crds, ", "))
		})
	}
}

// checkPodSecurity asserts what the issue asks of every container: non-root,
// no privilege escalation, read-only root filesystem, all capabilities
// dropped, RuntimeDefault seccomp (Pod Security "restricted" and more).
func checkPodSecurity(t *testing.T, name string, ps corev1.PodSpec) {
	t.Helper()
	psc := ps.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s: pod securityContext.runAsNonRoot is not true", name)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod seccompProfile is not RuntimeDefault", name)
	}
	for _, c := range append(append([]corev1.Container{}, ps.InitContainers...), ps.Containers...) {
		sc := c.SecurityContext
		switch {
		case sc == nil:
			t.Errorf("%s/%s: no securityContext", name, c.Name)
			continue
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("%s/%s: allowPrivilegeEscalation is not false", name, c.Name)
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			t.Errorf("%s/%s: readOnlyRootFilesystem is not true", name, c.Name)
		case sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) > 0:
			t.Errorf("%s/%s: capabilities are not drop [ALL] with nothing added", name, c.Name)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s/%s: privileged", name, c.Name)
		}
		if !strings.Contains(c.Image, "/") || !(strings.Contains(c.Image, ":") || strings.Contains(c.Image, "@")) {
			t.Errorf("%s/%s: image %q is not <registry>/<name>:<tag> (no overlay set it)", name, c.Name, c.Image)
		}
		if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s/%s: no memory request and limit", name, c.Name)
		}
	}
}

// qmEnv is queue-manager's environment as the rendered Deployment gives it:
// envFrom ConfigMaps in order (later ones win), then env (literal values,
// the namespace field, secret references as placeholders).
func qmEnv(t *testing.T, objs []*unstructured.Unstructured) (env map[string]string, secretRefs map[string]corev1.SecretKeySelector, dep *appsv1.Deployment) {
	t.Helper()
	u := find(objs, "Deployment", "queue-manager")
	if u == nil {
		t.Fatal("no Deployment queue-manager")
	}
	dep = convert[appsv1.Deployment](t, u)
	if len(dep.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("queue-manager has %d containers, want 1", len(dep.Spec.Template.Spec.Containers))
	}
	c := dep.Spec.Template.Spec.Containers[0]
	env = map[string]string{}
	secretRefs = map[string]corev1.SecretKeySelector{}
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm := find(objs, "ConfigMap", ef.ConfigMapRef.Name)
			if cm == nil {
				t.Fatalf("queue-manager envFrom ConfigMap %s is not in the render", ef.ConfigMapRef.Name)
			}
			for k, v := range convert[corev1.ConfigMap](t, cm).Data {
				env[ef.Prefix+k] = v
			}
		case ef.SecretRef != nil:
			t.Fatalf("queue-manager envFrom Secret %s: not expected (secrets by key only)", ef.SecretRef.Name)
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			env[e.Name] = dep.Namespace
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = "secret"
			secretRefs[e.Name] = *e.ValueFrom.SecretKeyRef
		default:
			t.Fatalf("queue-manager env %s: unsupported valueFrom %+v", e.Name, e.ValueFrom)
		}
	}
	return env, secretRefs, dep
}

// envPrefixes are the variables queue-manager reads (internal/app,
// internal/launch/kube, libs/bus, libs/store, libs/service): cleared before a
// rendered environment is loaded, so the test's own environment (kafka.sh's
// KAFKA_*, kube.sh's KUBECONFIG) cannot leak into it.
var envPrefixes = []string{"KAFKA_", "ARANGO_", "STORE_", "JOB_", "KUBE", "STEP_", "LAUNCHER", "LOCAL_BIN_DIR",
	"HTTP_ADDR", "LOG_LEVEL", "SHUTDOWN_TIMEOUT", "STOP_GRACE", "ENGINE_TICK", "EVENTS_GROUP"}

// kubeConfig loads the launcher's configuration from env exactly as
// queue-manager does (envconfig over the same struct) and validates it.
func kubeConfig(t *testing.T, env map[string]string) kube.Config {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		for _, p := range envPrefixes {
			if strings.HasPrefix(k, p) {
				t.Setenv(k, "") // restored after the test
				if err := os.Unsetenv(k); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var cfg kube.Config
	if err := envconfig.Process("", &cfg); err != nil {
		t.Fatalf("queue-manager's kube settings from the rendered environment: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("queue-manager's kube settings are invalid: %v", err)
	}
	return cfg
}

// workerSpec is one run as the engine launches it (internal/flow: run ID
// <queue_id>.<kind>.<attempt>, the task env, labels queue_id, step, attempt,
// workflow).
func workerSpec() launch.Spec {
	q := "wf-btcusdt-api_candles_5m-20240801-a1b2c3"
	return launch.Spec{
		ID:      q + ".load.1",
		Service: "dummy-service",
		Args:    []string{"--simulate-loading"},
		Env: map[string]string{
			"QUEUE_ID": q, "SYMBOL": "BTCUSDT", "TYPE": "api_candles_5m", "TIME_RANGE": "2024-08-01:2024-08-02",
			"KAFKA_TOPIC": q + "-data", "COLLECTION_NAME": "btcusdt_api_candles_5m_2024_08_01",
			"TELEMETRY_ID": "dummy-service__a1b2c3",
		},
		Labels: map[string]string{"queue_id": q, "step": "load", "attempt": "1", "workflow": "wf-btcusdt-workflow-20240801-a1b2c3"},
	}
}

// launcherJob is the Job queue-manager would create with the rendered
// settings.
func launcherJob(t *testing.T, cfg kube.Config) *batchv1.Job {
	t.Helper()
	k, err := kube.New(nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	job, err := k.Job(workerSpec())
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// copiedKafkaSecrets returns the Secrets platform/strimzi/copy-kafka-secrets.sh
// creates in the StreamForge namespace, with their keys: the cluster CA and
// one per service's KafkaUser. They live outside the render, made from what
// Strimzi's operators write.
func copiedKafkaSecrets(t *testing.T) map[string]map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "platform", "strimzi", "copy-kafka-secrets.sh"))
	if err != nil {
		t.Fatal(err)
	}
	// The default list is the last SERVICES=(...) (the first takes "$@").
	all := regexp.MustCompile(`(?s)SERVICES=\(([^)]*)\)`).FindAllSubmatch(b, -1)
	if len(all) == 0 {
		t.Fatal("copy-kafka-secrets.sh: no default SERVICES=(...) list")
	}
	m := all[len(all)-1]
	out := map[string]map[string]bool{"streamforge-kafka-ca": {"ca.crt": true}}
	for _, svc := range strings.Fields(string(m[1])) {
		out["streamforge-kafka-"+svc] = map[string]bool{"KAFKA_USERNAME": true, "KAFKA_PASSWORD": true}
	}
	return out
}

func secretKeys(t *testing.T, objs []*unstructured.Unstructured, name string) (map[string]bool, bool) {
	t.Helper()
	if keys, ok := copiedKafkaSecrets(t)[name]; ok {
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

func mountedUnder(path string, mounts []corev1.VolumeMount) bool {
	for _, m := range mounts {
		if path == m.MountPath || strings.HasPrefix(path, strings.TrimRight(m.MountPath, "/")+"/") {
			return true
		}
	}
	return false
}

// TestIntegrationManifestsMatchCode loads queue-manager's configuration from
// each rendered overlay the way the binary does and checks that what the
// launcher will do fits the manifests: the namespace, the ConfigMap, Secret
// and ServiceAccount it names exist; workers get no file setting that their
// Job does not mount; they serve metrics on the port the Job declares; the
// network policies select queue-manager and the worker Pods and let them
// reach Kafka; queue-manager's secrets and files are there.
func TestIntegrationManifestsMatchCode(t *testing.T) {
	for _, ov := range overlays {
		t.Run(strings.ReplaceAll(ov, "/", "_"), func(t *testing.T) {
			objs := render(t, ov)
			env, secretRefs, dep := qmEnv(t, objs)
			if env["LAUNCHER"] != "kubernetes" { // internal/app.Config.Validate: local or kubernetes
				t.Errorf("LAUNCHER=%q, want kubernetes", env["LAUNCHER"])
			}
			cfg := kubeConfig(t, env)
			if cfg.Namespace != "stf" || cfg.Kubeconfig != "" {
				t.Errorf("KUBE_NAMESPACE=%q KUBECONFIG=%q, want stf and in-cluster", cfg.Namespace, cfg.Kubeconfig)
			}
			workerCM := find(objs, "ConfigMap", cfg.ConfigMap)
			if workerCM == nil {
				t.Fatalf("JOB_CONFIGMAP=%s is not in the render", cfg.ConfigMap)
			}
			workerEnv := convert[corev1.ConfigMap](t, workerCM).Data
			if _, ok := secretKeys(t, objs, cfg.Secret); !ok {
				t.Errorf("JOB_SECRET=%s is neither a Secret nor synced by a SecretProviderClass in the render", cfg.Secret)
			}
			if find(objs, "ServiceAccount", cfg.ServiceAccount) == nil {
				t.Errorf("JOB_SERVICE_ACCOUNT=%s is not in the render", cfg.ServiceAccount)
			}
			if dep.Spec.Template.Spec.ServiceAccountName == "" || find(objs, "ServiceAccount", dep.Spec.Template.Spec.ServiceAccountName) == nil {
				t.Errorf("queue-manager's ServiceAccount %q is not in the render", dep.Spec.Template.Spec.ServiceAccountName)
			}
			for name, ref := range secretRefs {
				keys, ok := secretKeys(t, objs, ref.Name)
				if !ok || !keys[ref.Key] {
					t.Errorf("queue-manager env %s: key %s of Secret %s is not in the render", name, ref.Key, ref.Name)
				}
			}
			qm := dep.Spec.Template.Spec.Containers[0]
			for k, v := range env {
				if strings.HasSuffix(k, "_FILE") && v != "" && !mountedUnder(v, qm.VolumeMounts) {
					t.Errorf("queue-manager %s=%s is not under any of its volume mounts", k, v)
				}
			}

			job := launcherJob(t, cfg)
			wc := job.Spec.Template.Spec.Containers[0]
			for k, v := range workerEnv {
				if strings.HasSuffix(k, "_FILE") && v != "" && !mountedUnder(v, wc.VolumeMounts) {
					t.Errorf("%s: %s=%s, but the launcher's Jobs mount only %v: workers cannot read it", cfg.ConfigMap, k, v, wc.VolumeMounts)
				}
			}
			if env["KAFKA_SECURITY_PROTOCOL"] != workerEnv["KAFKA_SECURITY_PROTOCOL"] || env["KAFKA_BOOTSTRAP_SERVERS"] != workerEnv["KAFKA_BOOTSTRAP_SERVERS"] {
				t.Errorf("queue-manager and its workers disagree on Kafka: %s %s vs %s %s", env["KAFKA_SECURITY_PROTOCOL"],
					env["KAFKA_BOOTSTRAP_SERVERS"], workerEnv["KAFKA_SECURITY_PROTOCOL"], workerEnv["KAFKA_BOOTSTRAP_SERVERS"])
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
			_, port, err := net.SplitHostPort(workerEnv["HTTP_ADDR"])
			if err != nil || port != strconv.Itoa(int(cfg.MetricsPort)) {
				t.Errorf("workers listen on HTTP_ADDR=%q but their Jobs declare metrics port %d", workerEnv["HTTP_ADDR"], cfg.MetricsPort)
			}
			if _, port, _ := net.SplitHostPort(env["HTTP_ADDR"]); len(qm.Ports) == 0 || strconv.Itoa(int(qm.Ports[0].ContainerPort)) != port {
				t.Errorf("queue-manager listens on HTTP_ADDR=%q but declares ports %v", env["HTTP_ADDR"], qm.Ports)
			}

			// Network policies: each Pod is selected by a policy that lets it
			// reach the Kafka port, and the worker metrics port is open to
			// the monitoring namespace.
			_, kafkaPort, err := net.SplitHostPort(strings.Split(workerEnv["KAFKA_BOOTSTRAP_SERVERS"], ",")[0])
			if err != nil {
				t.Fatalf("KAFKA_BOOTSTRAP_SERVERS=%q: %v", workerEnv["KAFKA_BOOTSTRAP_SERVERS"], err)
			}
			var pols []networkingv1.NetworkPolicy
			for _, o := range objs {
				if o.GetKind() == "NetworkPolicy" {
					pols = append(pols, *convert[networkingv1.NetworkPolicy](t, o))
				}
			}
			pods := map[string]map[string]string{"launcher Job": job.Spec.Template.Labels}
			for name, pt := range podTemplates(t, objs) {
				pods[name] = pt.Labels
			}
			for name, lbls := range pods {
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
			if !ingressAllows(t, pols, dep.Spec.Template.Labels, strconv.Itoa(int(qm.Ports[0].ContainerPort))) {
				t.Error("no NetworkPolicy lets the gateway reach queue-manager")
			}
			if !egressAllows(t, pols, dep.Spec.Template.Labels, "6443") || !egressAllows(t, pols, dep.Spec.Template.Labels, "443") {
				t.Error("queue-manager may not reach the API server (443/6443)")
			}
			if egressAllows(t, pols, job.Spec.Template.Labels, "6443") {
				t.Error("worker Pods may reach the API server port 6443; they never need it")
			}

			// The LimitRange admits every container: a resource with a max
			// needs a limit, the container's own or the range's default
			// (the API server's LimitRanger rejects the Pod otherwise).
			for _, o := range objs {
				if o.GetKind() != "LimitRange" {
					continue
				}
				lr := convert[corev1.LimitRange](t, o)
				for _, item := range lr.Spec.Limits {
					if item.Type != corev1.LimitTypeContainer {
						continue
					}
					for res, max := range item.Max {
						for name := range pods {
							var spec corev1.PodSpec
							if name == "launcher Job" {
								spec = job.Spec.Template.Spec
							} else {
								spec = podTemplates(t, objs)[name].Spec
							}
							for _, c := range spec.Containers {
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

			// The Service and the PodDisruptionBudget select queue-manager.
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

const jobTemplateHeader = `# The Job queue-manager's kube launcher creates for one run of a step,
# shown for a dummy-service load step with the lab's
# settings (deploy/overlays/lab: queue-manager-config). GENERATED from the
# launcher itself (services/queue-manager/internal/launch/kube): the deploy
# test fails when it drifts; regenerate with
#   UPDATE_JOB_TEMPLATE=1 go test -tags integration -run IntegrationJobTemplate ./test/deploy/
# (in services/queue-manager). The API server accepts it with a dry run in the
# deploy test. To try a worker by hand:
#   kubectl -n stf create -f deploy/jobs/worker-job.yaml
`

// TestIntegrationJobTemplate: deploy/jobs/worker-job.yaml is exactly the Job
// the launcher builds with the lab overlay's settings.
func TestIntegrationJobTemplate(t *testing.T) {
	objs := render(t, "overlays/lab")
	env, _, _ := qmEnv(t, objs)
	job := launcherJob(t, kubeConfig(t, env))
	job.TypeMeta = metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}
	path := filepath.Join(repoRoot(t), "deploy", "jobs", "worker-job.yaml")
	want := jobYAML(t, job)
	if os.Getenv("UPDATE_JOB_TEMPLATE") == "1" {
		if err := os.WriteFile(path, append([]byte(jobTemplateHeader), want...), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got batchv1.Job
	if err := yaml.UnmarshalStrict(b, &got); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if diff := cmp.Diff(string(want), string(jobYAML(t, &got))); diff != "" {
		t.Errorf("%s differs from the Job the launcher builds with the lab settings (-launcher +file):\n%s", path, diff)
	}
}

// jobYAML is a Job as YAML without the fields only the server sets.
func jobYAML(t *testing.T, job *batchv1.Job) []byte {
	t.Helper()
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(job)
	if err != nil {
		t.Fatal(err)
	}
	unstructured.RemoveNestedField(u, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u, "spec", "template", "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u, "status")
	b, err := yaml.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// warnings collects the API server's Warning headers.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
