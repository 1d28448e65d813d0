package kube

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/streamforge/streamforge/libs/protocol"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config is how queue-manager shapes the worker Jobs it launches. Load it with
// envconfig (envconfig.Process("", &cfg)), then call Validate.
type Config struct {
	Kubeconfig string `envconfig:"KUBECONFIG" desc:"kubeconfig file(s) to reach the API server; in-cluster service account when empty"`
	Namespace  string `envconfig:"KUBE_NAMESPACE" default:"stf" desc:"namespace the worker Jobs run in"`

	ImageRegistry string   `envconfig:"JOB_IMAGE_REGISTRY" default:"registry.dmz.home/streamforge" desc:"registry and path of the worker images: <registry>/<service>:<tag>"`
	ImageTag      string   `envconfig:"JOB_IMAGE_TAG" default:"0.1.0" desc:"tag of the worker images (the release's version)"`
	Images        ImageMap `envconfig:"JOB_IMAGES" desc:"per-service image overrides, e.g. loader-producer=repo/x:1,dummy-service=repo/y:2"`
	PullPolicy    string   `envconfig:"JOB_IMAGE_PULL_POLICY" desc:"Always, IfNotPresent or Never; Kubernetes' default when empty"`

	ConfigMap string `envconfig:"JOB_CONFIGMAP" default:"streamforge-config" desc:"ConfigMap every worker gets its shared settings from (envFrom); none when empty"`
	Secret    string `envconfig:"JOB_SECRET" default:"streamforge-secrets" desc:"Secret every worker gets its credentials from (envFrom, optional); none when empty"`
	// ServiceSecretPrefix gives each service its own credentials (its own
	// KafkaUser, least privilege): Secret <prefix><service>, after JOB_SECRET
	// so its keys win.
	ServiceSecretPrefix string `envconfig:"JOB_SERVICE_SECRET_PREFIX" desc:"each worker also gets Secret <prefix><service> (envFrom, after JOB_SECRET, so its KAFKA_USERNAME/KAFKA_PASSWORD win), e.g. streamforge-kafka-; none when empty"`
	// KafkaCASecret is mounted so workers can verify the brokers' TLS
	// certificates (Strimzi's cluster CA).
	KafkaCASecret string `envconfig:"JOB_KAFKA_CA_SECRET" desc:"Secret with the Kafka cluster CA (key ca.crt) mounted read-only in every worker at /etc/streamforge/kafka-ca, with KAFKA_CA_FILE pointing at it; none when empty"`

	// StoreClaim serves the embedded store (SQLite, one file every worker
	// writes) on a one-node cluster without ArangoDB: the workers share one
	// volume, as local child processes share the data directory. A claim, not
	// a hostPath: the namespace's PodSecurity level (restricted) refuses
	// hostPath volumes in Pods.
	StoreClaim string `envconfig:"JOB_STORE_CLAIM" desc:"PersistentVolumeClaim mounted read-write at /var/lib/streamforge in every worker, for the embedded SQLite store on a one-node cluster (JOB_CONFIGMAP's STORE_PATH points into it, ARANGO_URL empty); none when empty"`

	NodeSelector   StringMap `envconfig:"JOB_NODE_SELECTOR" default:"streamforge-worker=true" desc:"node labels worker Pods must match, key=value,...; none when set empty"`
	ServiceAccount string    `envconfig:"JOB_SERVICE_ACCOUNT" desc:"service account of the worker Pods; the namespace's default when empty"`
	CPURequest     string    `envconfig:"JOB_CPU_REQUEST" default:"100m" desc:"worker container CPU request"`
	MemoryRequest  string    `envconfig:"JOB_MEMORY_REQUEST" default:"64Mi" desc:"worker container memory request"`
	CPULimit       string    `envconfig:"JOB_CPU_LIMIT" desc:"worker container CPU limit; none when empty"`
	MemoryLimit    string    `envconfig:"JOB_MEMORY_LIMIT" default:"256Mi" desc:"worker container memory limit; none when empty"`
	ScratchLimit   string    `envconfig:"JOB_SCRATCH_LIMIT" default:"8Gi" desc:"sizeLimit of the worker's scratch emptyDir at /tmp, where a loader spools up to LOADER_CONCURRENCY archives of at most LOADER_ARCHIVE_MAX_MB each: a Pod writing more is evicted; none when empty"`
	MetricsPort    int32     `envconfig:"JOB_METRICS_PORT" default:"8000" desc:"port the workers serve /metrics on (declared as the container port 'metrics'); 0 for none"`

	// BackoffLimit is 0 by default: queue-manager retries a failed step
	// itself, as a new run with its own capped backoff and a fresh ID, so the
	// Job controller must not retry behind its back.
	BackoffLimit            int32 `envconfig:"JOB_BACKOFF_LIMIT" default:"0" desc:"Pod retries inside one Job (queue-manager retries steps itself, keep 0)"`
	TTLSecondsAfterFinished int32 `envconfig:"JOB_TTL_SECONDS_AFTER_FINISHED" default:"3600" desc:"seconds a finished Job is kept before Kubernetes deletes it; -1 keeps it"`
}

// Validate checks the configuration and returns an error naming each bad
// variable.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	for _, msg := range validation.IsDNS1123Label(c.Namespace) {
		bad("KUBE_NAMESPACE", "%q: %s", c.Namespace, msg)
	}
	if c.ImageRegistry == "" && len(c.Images) == 0 {
		bad("JOB_IMAGE_REGISTRY", "is empty and JOB_IMAGES names no image")
	}
	if strings.ContainsAny(c.ImageTag, ":/@ ") {
		bad("JOB_IMAGE_TAG", "%q is not an image tag", c.ImageTag)
	}
	switch c.PullPolicy {
	case "", "Always", "IfNotPresent", "Never":
	default:
		bad("JOB_IMAGE_PULL_POLICY", "%q is not Always, IfNotPresent or Never", c.PullPolicy)
	}
	for _, n := range []struct{ name, value string }{
		{"JOB_CONFIGMAP", c.ConfigMap}, {"JOB_SECRET", c.Secret}, {"JOB_SERVICE_ACCOUNT", c.ServiceAccount},
		{"JOB_KAFKA_CA_SECRET", c.KafkaCASecret}, {"JOB_STORE_CLAIM", c.StoreClaim},
	} {
		if n.value == "" {
			continue
		}
		for _, msg := range validation.IsDNS1123Subdomain(n.value) {
			bad(n.name, "%q: %s", n.value, msg)
		}
	}
	if c.ServiceSecretPrefix != "" {
		// The longest worker name must still make a valid Secret name.
		longest := ""
		for _, svc := range protocol.ServiceNames(protocol.IsWorker) {
			if len(svc) > len(longest) {
				longest = svc
			}
		}
		for _, msg := range validation.IsDNS1123Subdomain(c.ServiceSecretPrefix + longest) {
			bad("JOB_SERVICE_SECRET_PREFIX", "%q + a service name: %s", c.ServiceSecretPrefix, msg)
		}
	}
	for k, v := range c.NodeSelector {
		for _, msg := range validation.IsQualifiedName(k) {
			bad("JOB_NODE_SELECTOR", "key %q: %s", k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			bad("JOB_NODE_SELECTOR", "value %q: %s", v, msg)
		}
	}
	for _, q := range []struct{ name, value string }{
		{"JOB_CPU_REQUEST", c.CPURequest}, {"JOB_MEMORY_REQUEST", c.MemoryRequest},
		{"JOB_CPU_LIMIT", c.CPULimit}, {"JOB_MEMORY_LIMIT", c.MemoryLimit}, {"JOB_SCRATCH_LIMIT", c.ScratchLimit},
	} {
		if q.value == "" {
			continue
		}
		if _, err := resource.ParseQuantity(q.value); err != nil {
			bad(q.name, "%q is not a quantity (e.g. 100m, 0.5, 64Mi)", q.value)
		}
	}
	if c.MetricsPort < 0 || c.MetricsPort > 65535 {
		bad("JOB_METRICS_PORT", "%d is not a port", c.MetricsPort)
	}
	if c.BackoffLimit < 0 {
		bad("JOB_BACKOFF_LIMIT", "%d is negative", c.BackoffLimit)
	}
	if c.TTLSecondsAfterFinished < -1 {
		bad("JOB_TTL_SECONDS_AFTER_FINISHED", "%d is below -1", c.TTLSecondsAfterFinished)
	}
	return errors.Join(errs...)
}

// Image returns the image a service's worker runs: the JOB_IMAGES override
// when there is one, else <registry>/<service>:<tag>.
func (c *Config) Image(service string) string {
	if img, ok := c.Images[service]; ok {
		return img
	}
	img := strings.TrimRight(c.ImageRegistry, "/") + "/" + service
	if c.ImageTag != "" {
		img += ":" + c.ImageTag
	}
	return img
}

// RESTConfig returns the client configuration for reaching the API server:
// from the kubeconfig file(s) in c.Kubeconfig (a path list, like KUBECONFIG)
// when set, else the in-cluster service account. It returns an error when
// neither is usable.
func (c *Config) RESTConfig() (*rest.Config, error) {
	var rc *rest.Config
	var err error
	if c.Kubeconfig != "" {
		rules := &clientcmd.ClientConfigLoadingRules{Precedence: filepath.SplitList(c.Kubeconfig)}
		rc, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("load kubeconfig %s: %w", c.Kubeconfig, err)
		}
	} else {
		rc, err = rest.InClusterConfig()
		if errors.Is(err, rest.ErrNotInCluster) {
			return nil, errors.New("no Kubernetes API: KUBECONFIG is empty and this is not a Pod (no in-cluster service account)")
		}
		if err != nil {
			return nil, fmt.Errorf("in-cluster config: %w", err)
		}
	}
	rc.UserAgent = "streamforge-queue-manager"
	// client-go's defaults (5 QPS, burst 10) throttle a workflow that launches
	// dozens of Jobs at once.
	rc.QPS, rc.Burst = 20, 40
	return rc, nil
}

// StringMap is a key=value,... environment variable.
type StringMap map[string]string

// Decode implements envconfig.Decoder.
func (m *StringMap) Decode(value string) error {
	out, err := parsePairs(value)
	if err != nil {
		return err
	}
	*m = out
	return nil
}

// String formats the map as Decode reads it, keys sorted.
func (m StringMap) String() string { return formatPairs(m) }

// ImageMap maps a service to its image: service=image,... (an image may
// carry a tag or digest, so pairs are split at the first '=').
type ImageMap map[string]string

// Decode implements envconfig.Decoder.
func (m *ImageMap) Decode(value string) error {
	out, err := parsePairs(value)
	if err != nil {
		return err
	}
	for svc, img := range out {
		if img == "" || strings.ContainsAny(img, " \t") {
			return fmt.Errorf("service %s: %q is not an image", svc, img)
		}
	}
	*m = out
	return nil
}

// String formats the map as Decode reads it, keys sorted.
func (m ImageMap) String() string { return formatPairs(m) }

func parsePairs(value string) (map[string]string, error) {
	out := map[string]string{}
	for pair := range strings.SplitSeq(value, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value", pair)
		}
		out[k] = v
	}
	return out, nil
}

func formatPairs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + m[k])
	}
	return b.String()
}
