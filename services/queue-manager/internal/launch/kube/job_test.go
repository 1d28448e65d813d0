package kube

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kelseyhightower/envconfig"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// defaultConfig is the configuration an empty environment gives.
func defaultConfig(t *testing.T) Config {
	t.Helper()
	var cfg Config
	if err := envconfig.Process("", &cfg); err != nil {
		t.Fatalf("envconfig: %v", err)
	}
	cfg.Kubeconfig = ""
	return cfg
}

func testSpec() launch.Spec {
	return launch.Spec{
		ID:      "wf-btcusdt-api_candles_5m-20240801-a1b2c3.load.1",
		Service: "loader-producer",
		Args:    []string{"--once"},
		Env: map[string]string{
			"TELEMETRY_ID": "loader-producer__a1b2c3",
			"QUEUE_ID":     "wf-btcusdt-api_candles_5m-20240801-a1b2c3",
			"SYMBOL":       "BTCUSDT",
		},
		Labels: map[string]string{
			"queue_id": "wf-btcusdt-api_candles_5m-20240801-a1b2c3",
			"step":     "load",
			"note":     "has spaces, so not a label value",
		},
		Deadline: 90*time.Minute + 500*time.Millisecond,
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg := defaultConfig(t)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	if got, want := cfg.Namespace, "stf"; got != want {
		t.Errorf("namespace %q, want %q", got, want)
	}
	if got, want := cfg.Image("dummy-service"), "registry.dmz.home/streamforge/dummy-service:0.1.0"; got != want {
		t.Errorf("image %q, want %q", got, want)
	}
	if diff := cmp.Diff(map[string]string{"streamforge-worker": "true"}, map[string]string(cfg.NodeSelector)); diff != "" {
		t.Errorf("node selector (-want +got):\n%s", diff)
	}
	if cfg.BackoffLimit != 0 || cfg.TTLSecondsAfterFinished != 3600 {
		t.Errorf("backoffLimit %d ttl %d, want 0 and 3600", cfg.BackoffLimit, cfg.TTLSecondsAfterFinished)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("JOB_IMAGES", "loader-producer=repo/x:1, dummy-service=repo/y@sha256:abc")
	t.Setenv("JOB_NODE_SELECTOR", "")
	t.Setenv("JOB_IMAGE_REGISTRY", "reg.example/sf/")
	t.Setenv("JOB_IMAGE_TAG", "2.0.0")
	cfg := defaultConfig(t)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	for svc, want := range map[string]string{
		"loader-producer":  "repo/x:1",
		"dummy-service":    "repo/y@sha256:abc",
		"arango-connector": "reg.example/sf/arango-connector:2.0.0",
	} {
		if got := cfg.Image(svc); got != want {
			t.Errorf("Image(%s) = %q, want %q", svc, got, want)
		}
	}
	if len(cfg.NodeSelector) != 0 {
		t.Errorf("JOB_NODE_SELECTOR empty gave %v, want no selector", cfg.NodeSelector)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // variable named in the error
	}{
		{"namespace", func(c *Config) { c.Namespace = "Not_OK" }, "KUBE_NAMESPACE"},
		{"cpu", func(c *Config) { c.CPURequest = "lots" }, "JOB_CPU_REQUEST"},
		{"memory limit", func(c *Config) { c.MemoryLimit = "1 GB" }, "JOB_MEMORY_LIMIT"},
		{"node selector", func(c *Config) { c.NodeSelector = StringMap{"bad key!": "x"} }, "JOB_NODE_SELECTOR"},
		{"backoff", func(c *Config) { c.BackoffLimit = -1 }, "JOB_BACKOFF_LIMIT"},
		{"pull policy", func(c *Config) { c.PullPolicy = "Sometimes" }, "JOB_IMAGE_PULL_POLICY"},
		{"tag", func(c *Config) { c.ImageTag = "a:b" }, "JOB_IMAGE_TAG"},
		{"secret", func(c *Config) { c.Secret = "UPPER" }, "JOB_SECRET"},
		{"ca secret", func(c *Config) { c.KafkaCASecret = "Bad_CA" }, "JOB_KAFKA_CA_SECRET"},
		{"service secret prefix", func(c *Config) { c.ServiceSecretPrefix = "Kafka_" }, "JOB_SERVICE_SECRET_PREFIX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig(t)
			tt.change(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestImageMapDecode(t *testing.T) {
	var m ImageMap
	if err := m.Decode("no-equals-sign"); err == nil {
		t.Error("Decode accepted a pair without '='")
	}
	if err := m.Decode("a=repo/a:1,b=host:5000/b:2"); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if diff := cmp.Diff(ImageMap{"a": "repo/a:1", "b": "host:5000/b:2"}, m); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got, want := m.String(), "a=repo/a:1,b=host:5000/b:2"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestJobName(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct{ name, service, id string }{
		{"first attempt", "loader-producer", "wf-btcusdt-api_candles_5m-20240801-a1b2c3.load.1"},
		{"second attempt", "loader-producer", "wf-btcusdt-api_candles_5m-20240801-a1b2c3.load.2"},
		{"long symbol and type", "arango-connector", "wf-1000shibusdt-ws_orderbook_depth20-20240801-a1b2c3.store.10"},
		{"id over the limit", "dummy-service", long},
		{"id over the limit by one more", "dummy-service", long + "y"},
		{"clean id", "dummy-service", "plain"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := JobName(tt.service, tt.id)
			if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
				t.Errorf("JobName(%q, %q) = %q: %v", tt.service, tt.id, name, errs)
			}
			if !strings.HasPrefix(name, "job-"+tt.service+"-") {
				t.Errorf("JobName(%q, %q) = %q, want prefix job-%s-", tt.service, tt.id, name, tt.service)
			}
			if prev, dup := seen[name]; dup {
				t.Errorf("JobName collision: %q for %q and %q", name, prev, tt.id)
			}
			seen[name] = tt.id
		})
	}
	if got, want := JobName("dummy-service", "plain"), "job-dummy-service-plain"; got != want {
		t.Errorf("JobName of a clean id = %q, want %q (no hash needed)", got, want)
	}
}

func TestBuildJob(t *testing.T) {
	cfg := defaultConfig(t)
	s := testSpec()
	job, err := buildJob(&cfg, s)
	if err != nil {
		t.Fatalf("buildJob: %v", err)
	}
	if errs := validation.IsDNS1123Label(job.Name); len(errs) > 0 || len(job.Name) > 63 {
		t.Errorf("name %q (%d chars) is not a DNS-1123 label: %v", job.Name, len(job.Name), errs)
	}
	if job.Namespace != "stf" {
		t.Errorf("namespace %q, want stf", job.Namespace)
	}
	wantLabels := map[string]string{
		"app":                          "streamforge",
		"app.kubernetes.io/name":       "loader-producer",
		"app.kubernetes.io/managed-by": "queue-manager",
		"streamforge.dev/run":          s.ID,
		"queue_id":                     "wf-btcusdt-api_candles_5m-20240801-a1b2c3",
		"step":                         "load",
	}
	if diff := cmp.Diff(wantLabels, job.Labels); diff != "" {
		t.Errorf("job labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantLabels, job.Spec.Template.Labels); diff != "" {
		t.Errorf("pod labels (-want +got):\n%s", diff)
	}
	wantAnn := map[string]string{
		"streamforge.dev/run-id": s.ID,
		"streamforge.dev/note":   "has spaces, so not a label value",
	}
	if diff := cmp.Diff(wantAnn, job.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}

	spec := job.Spec
	if spec.BackoffLimit == nil || *spec.BackoffLimit != 0 {
		t.Errorf("backoffLimit %v, want 0", spec.BackoffLimit)
	}
	if spec.TTLSecondsAfterFinished == nil || *spec.TTLSecondsAfterFinished != 3600 {
		t.Errorf("ttlSecondsAfterFinished %v, want 3600", spec.TTLSecondsAfterFinished)
	}
	if spec.ActiveDeadlineSeconds == nil || *spec.ActiveDeadlineSeconds != 5401 {
		t.Errorf("activeDeadlineSeconds %v, want 5401 (90m0.5s rounded up)", spec.ActiveDeadlineSeconds)
	}
	pod := spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never", pod.RestartPolicy)
	}
	if got := pod.Containers[0].TerminationMessagePolicy; got != corev1.TerminationMessageFallbackToLogsOnError {
		t.Errorf("terminationMessagePolicy %q, want FallbackToLogsOnError (a refused configuration's reason is the last log line)", got)
	}
	if diff := cmp.Diff(map[string]string{"streamforge-worker": "true"}, pod.NodeSelector); diff != "" {
		t.Errorf("nodeSelector (-want +got):\n%s", diff)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v, want non-root uid 65532 with RuntimeDefault seccomp", psc)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != "registry.dmz.home/streamforge/loader-producer:0.1.0" {
		t.Errorf("image %q", c.Image)
	}
	if diff := cmp.Diff([]string{"--once"}, c.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	wantEnv := []corev1.EnvVar{
		{Name: "QUEUE_ID", Value: "wf-btcusdt-api_candles_5m-20240801-a1b2c3"},
		{Name: "SYMBOL", Value: "BTCUSDT"},
		{Name: "TELEMETRY_ID", Value: "loader-producer__a1b2c3"},
	}
	if diff := cmp.Diff(wantEnv, c.Env); diff != "" {
		t.Errorf("env, sorted by name (-want +got):\n%s", diff)
	}
	if len(c.EnvFrom) != 2 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[0].ConfigMapRef.Name != "streamforge-config" ||
		c.EnvFrom[1].SecretRef == nil || c.EnvFrom[1].SecretRef.Name != "streamforge-secrets" {
		t.Errorf("envFrom %+v, want ConfigMap streamforge-config then Secret streamforge-secrets", c.EnvFrom)
	}
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("container security context %+v, want no escalation, read-only root, drop ALL", sc)
	}
	if got := c.Resources.Requests.Cpu().String(); got != "100m" {
		t.Errorf("cpu request %s, want 100m", got)
	}
	if got := c.Resources.Limits.Memory().String(); got != "256Mi" {
		t.Errorf("memory limit %s, want 256Mi", got)
	}

	again, err := buildJob(&cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(job, again); diff != "" {
		t.Errorf("the same spec built a different job (-first +second):\n%s", diff)
	}
}

// TestBuildJobKafkaCredentials: each service's own credentials come after the
// shared Secret (so they win), and the cluster CA is mounted read-only with
// KAFKA_CA_FILE pointing at it, overriding any value the step passed.
func TestBuildJobKafkaCredentials(t *testing.T) {
	cfg := defaultConfig(t)
	cfg.ServiceSecretPrefix, cfg.KafkaCASecret = "streamforge-kafka-", "streamforge-kafka-ca"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := testSpec()
	s.Env["KAFKA_CA_FILE"] = "/somewhere/else.crt"
	job, err := buildJob(&cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	c := job.Spec.Template.Spec.Containers[0]
	var from []string
	for _, f := range c.EnvFrom {
		switch {
		case f.ConfigMapRef != nil:
			from = append(from, "configmap/"+f.ConfigMapRef.Name)
		case f.SecretRef != nil:
			from = append(from, "secret/"+f.SecretRef.Name)
		}
	}
	if diff := cmp.Diff([]string{"configmap/streamforge-config", "secret/streamforge-secrets", "secret/streamforge-kafka-loader-producer"}, from); diff != "" {
		t.Errorf("envFrom (-want +got):\n%s", diff)
	}
	if last := c.EnvFrom[len(c.EnvFrom)-1]; last.SecretRef.Optional != nil && *last.SecretRef.Optional {
		t.Error("the service's own Secret is optional: a missing one would let the worker log in as the shared user")
	}
	caFile := ""
	for _, e := range c.Env {
		if e.Name == "KAFKA_CA_FILE" {
			if caFile != "" {
				t.Errorf("KAFKA_CA_FILE set twice")
			}
			caFile = e.Value
		}
	}
	if caFile != KafkaCADir+"/ca.crt" {
		t.Errorf("KAFKA_CA_FILE = %q, want the mounted %s/ca.crt", caFile, KafkaCADir)
	}
	var mounted bool
	for _, m := range c.VolumeMounts {
		mounted = mounted || (m.MountPath == KafkaCADir && m.ReadOnly)
	}
	var vol bool
	for _, v := range job.Spec.Template.Spec.Volumes {
		vol = vol || (v.Secret != nil && v.Secret.SecretName == "streamforge-kafka-ca")
	}
	if !mounted || !vol {
		t.Errorf("CA not mounted read-only from its Secret: mounts %+v volumes %+v", c.VolumeMounts, job.Spec.Template.Spec.Volumes)
	}
}

func TestBuildJobLongIDKeepsExactIDInAnnotation(t *testing.T) {
	cfg := defaultConfig(t)
	s := testSpec()
	s.ID = "wf-" + strings.Repeat("verylongsymbol", 6) + "-api_candles_5m-20240801-a1b2c3.load.1"
	s.Labels = map[string]string{"queue_id": strings.TrimSuffix(s.ID, ".load.1")}
	s.Deadline = 0
	job, err := buildJob(&cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(job.Name) > 63 {
		t.Errorf("name %q is %d chars", job.Name, len(job.Name))
	}
	if got := job.Annotations[AnnotationRunID]; got != s.ID {
		t.Errorf("run-id annotation %q, want %q", got, s.ID)
	}
	if got := job.Annotations["streamforge.dev/queue_id"]; got != s.Labels["queue_id"] {
		t.Errorf("queue_id annotation %q, want the too-long value kept there", got)
	}
	// The PodMonitor (deploy/monitoring/podmonitor.yaml) labels worker series
	// from the Pod's annotations.
	if got := job.Spec.Template.Annotations["streamforge.dev/queue_id"]; got != s.Labels["queue_id"] {
		t.Errorf("Pod's queue_id annotation %q, want the Job's", got)
	}
	if _, ok := job.Labels["queue_id"]; ok {
		t.Error("queue_id longer than 63 chars became a label")
	}
	if errs := validation.IsValidLabelValue(job.Labels[LabelRun]); len(errs) > 0 {
		t.Errorf("run label %q: %v", job.Labels[LabelRun], errs)
	}
	if job.Spec.ActiveDeadlineSeconds != nil {
		t.Errorf("activeDeadlineSeconds %d with no deadline", *job.Spec.ActiveDeadlineSeconds)
	}
}

func TestBuildJobRejects(t *testing.T) {
	cfg := defaultConfig(t)
	for name, s := range map[string]launch.Spec{
		"no id":       {Service: "dummy-service"},
		"bad service": {ID: "x", Service: "Dummy_Service"},
	} {
		if _, err := buildJob(&cfg, s); err == nil {
			t.Errorf("%s: buildJob accepted %+v", name, s)
		}
	}
}
