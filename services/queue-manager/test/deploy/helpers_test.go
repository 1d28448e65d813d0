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
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/kube"
)

// Overlays are every kustomization a person may apply; "." is deploy/ itself
// (the GitOps root, the lab).
var overlays = []string{".", "overlays/lab", "overlays/lab-vault", "overlays/minimal", "overlays/node-test"}

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
		Labels:   map[string]string{"queue_id": q, "step": "load", "attempt": "1", "workflow": "wf-btcusdt-workflow-20240801-a1b2c3"},
		Deadline: loadDeadline(),
	}
}

// loadDeadline is the load kind's default deadline, which the engine gives
// every run of a history load.
func loadDeadline() time.Duration {
	k, _ := protocol.LookupStepKind(protocol.StepLoad)
	return k.DefaultDeadline
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

func mountedUnder(path string, mounts []corev1.VolumeMount) bool {
	for _, m := range mounts {
		if path == m.MountPath || strings.HasPrefix(path, strings.TrimRight(m.MountPath, "/")+"/") {
			return true
		}
	}
	return false
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

// launchSetup is one overlay's render as queue-manager and its kube
// launcher see it.
type launchSetup struct {
	objs       []*unstructured.Unstructured
	env        map[string]string // queue-manager's environment
	secretRefs map[string]corev1.SecretKeySelector
	dep        *appsv1.Deployment // queue-manager's
	qm         corev1.Container   // queue-manager's container
	cfg        kube.Config        // the launcher's settings, loaded from env as the binary does
	workerEnv  map[string]string  // JOB_CONFIGMAP's data: the workers' environment
	job        *batchv1.Job       // the Job the launcher builds with cfg
	wc         corev1.Container   // its container
}

// newLaunchSetup renders deploy/<overlay> and loads queue-manager's and its
// workers' settings from it.
func newLaunchSetup(t *testing.T, overlay string) *launchSetup {
	t.Helper()
	s := &launchSetup{objs: render(t, overlay)}
	s.env, s.secretRefs, s.dep = qmEnv(t, s.objs)
	s.qm = s.dep.Spec.Template.Spec.Containers[0]
	s.cfg = kubeConfig(t, s.env)
	workerCM := find(s.objs, "ConfigMap", s.cfg.ConfigMap)
	if workerCM == nil {
		t.Fatalf("JOB_CONFIGMAP=%s is not in the render", s.cfg.ConfigMap)
	}
	s.workerEnv = convert[corev1.ConfigMap](t, workerCM).Data
	s.job = launcherJob(t, s.cfg)
	s.wc = s.job.Spec.Template.Spec.Containers[0]
	return s
}

// pods returns every Pod template of the setup by name: the render's, by
// "Kind/name", and the launcher's Job as "launcher Job".
func (s *launchSetup) pods(t *testing.T) map[string]corev1.PodTemplateSpec {
	t.Helper()
	pods := podTemplates(t, s.objs)
	pods["launcher Job"] = s.job.Spec.Template
	return pods
}

// forEachOverlay runs check on every overlay's launch setup, one subtest
// per overlay.
func forEachOverlay(t *testing.T, check func(t *testing.T, s *launchSetup)) {
	for _, ov := range overlays {
		t.Run(strings.ReplaceAll(ov, "/", "_"), func(t *testing.T) { check(t, newLaunchSetup(t, ov)) })
	}
}
