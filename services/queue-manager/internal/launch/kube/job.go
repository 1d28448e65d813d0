package kube

import (
	"errors"
	"fmt"
	"math"
	"sort"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/streamforge/streamforge/libs/protocol"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// Labels and annotations on every Job (and its Pods) this package launches.
const (
	LabelApp     = "app"
	LabelService = "app.kubernetes.io/name"
	LabelManaged = "app.kubernetes.io/managed-by"
	// LabelRun selects one run: its ID when that is a valid label value,
	// else a DNS-1123 form of it with a hash suffix (see runLabel).
	LabelRun = "streamforge.dev/run"
	// AnnotationRunID holds the run's exact ID; it is what maps a Job back
	// to launch.Status.ID.
	AnnotationRunID = "streamforge.dev/run-id"
	// annotationPrefix holds Spec.Labels that cannot be labels.
	annotationPrefix = "streamforge.dev/"

	appName       = "streamforge"
	managerName   = "queue-manager"
	containerName = "worker"

	// Labels the Job controller puts on the Pods it creates.
	labelJobName       = "batch.kubernetes.io/job-name"
	labelLegacyJobName = "job-name"
)

// JobName is the name of the Job for a run of service: a DNS-1123 label
// derived from "job-<service>-<id>", at most 63 characters, with a hash
// suffix whenever the ID had to be changed or cut.
func JobName(service, id string) string { return protocol.KubeName("job", service, id) }

// runLabel is the LabelRun value for a run ID.
func runLabel(id string) string {
	if protocol.IsLabelValue(id) {
		return id
	}
	return protocol.KubeName(id)
}

// reserved label keys that Spec.Labels may not override.
var reserved = map[string]bool{LabelApp: true, LabelService: true, LabelManaged: true, LabelRun: true}

// buildJob turns a run into the Job to create.
func buildJob(cfg *Config, s launch.Spec) (*batchv1.Job, error) {
	if s.ID == "" {
		return nil, errors.New("spec has no ID")
	}
	if errs := validation.IsDNS1123Label(s.Service); len(errs) > 0 {
		return nil, fmt.Errorf("service %q is not a DNS-1123 label: %s", s.Service, errs[0])
	}
	labels := map[string]string{
		LabelApp:     appName,
		LabelService: s.Service,
		LabelManaged: managerName,
		LabelRun:     runLabel(s.ID),
	}
	annotations := map[string]string{AnnotationRunID: s.ID}
	for k, v := range s.Labels {
		if !reserved[k] && len(validation.IsQualifiedName(k)) == 0 && protocol.IsLabelValue(v) {
			labels[k] = v
			continue
		}
		key := k
		if len(validation.IsQualifiedName(annotationPrefix+key)) > 0 {
			key = protocol.KubeName(k)
		}
		annotations[annotationPrefix+key] = v
	}

	container := corev1.Container{
		Name:            containerName,
		Image:           cfg.Image(s.Service),
		ImagePullPolicy: corev1.PullPolicy(cfg.PullPolicy),
		Args:            s.Args,
		Env:             envVars(s.Env, cfg.KafkaCASecret != ""),
		EnvFrom:         envFrom(cfg, s.Service),
		Resources:       resources(cfg),
		// A worker that refuses its configuration says why on its last log
		// line and exits 2; without a termination message file that line
		// becomes the container's terminated message, which the run's
		// failure reports (see runState).
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: new(false),
			ReadOnlyRootFilesystem:   new(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
		// The root filesystem is read-only; workers get a scratch /tmp.
		VolumeMounts: []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
	}
	scratch := &corev1.EmptyDirVolumeSource{}
	if cfg.ScratchLimit != "" {
		q, err := resource.ParseQuantity(cfg.ScratchLimit)
		if err != nil {
			return nil, fmt.Errorf("JOB_SCRATCH_LIMIT: %w", err)
		}
		scratch.SizeLimit = &q
	}
	volumes := []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: scratch}}}
	if cfg.KafkaCASecret != "" {
		container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: "kafka-ca", MountPath: KafkaCADir, ReadOnly: true})
		volumes = append(volumes, corev1.Volume{Name: "kafka-ca", VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: cfg.KafkaCASecret, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}},
		}})
	}
	if cfg.StoreClaim != "" {
		container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: "store", MountPath: StoreDir})
		volumes = append(volumes, corev1.Volume{Name: "store", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: cfg.StoreClaim},
		}})
	}
	if cfg.MetricsPort > 0 {
		container.Ports = []corev1.ContainerPort{{Name: "metrics", ContainerPort: cfg.MetricsPort, Protocol: corev1.ProtocolTCP}}
	}

	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:        JobName(s.Service, s.ID),
			Namespace:   cfg.Namespace,
			Labels:      labels,
			Annotations: annotations,
		},
		Spec: batchv1.JobSpec{
			Parallelism:  new(int32(1)),
			Completions:  new(int32(1)),
			BackoffLimit: new(cfg.BackoffLimit),
			Template: corev1.PodTemplateSpec{
				// The Pod carries the Job's annotations too: the PodMonitor
				// reads a queue_id too long for a label from there.
				ObjectMeta: metav1.ObjectMeta{Labels: copyMap(labels), Annotations: copyMap(annotations)},
				Spec: corev1.PodSpec{
					RestartPolicy:      corev1.RestartPolicyNever,
					ServiceAccountName: cfg.ServiceAccount,
					NodeSelector:       copyMap(cfg.NodeSelector),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   new(true),
						RunAsUser:      new(int64(65532)),
						RunAsGroup:     new(int64(65532)),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{container},
					Volumes:    volumes,
				},
			},
		},
	}
	if cfg.TTLSecondsAfterFinished >= 0 {
		job.Spec.TTLSecondsAfterFinished = new(cfg.TTLSecondsAfterFinished)
	}
	if s.Deadline > 0 {
		job.Spec.ActiveDeadlineSeconds = new(int64(math.Ceil(s.Deadline.Seconds())))
	}
	addSecretEnv(job, s.Secrets)
	return job, nil
}

// StoreDir is where JOB_STORE_CLAIM is mounted in every worker.
const StoreDir = "/var/lib/streamforge"

// KafkaCADir is where JOB_KAFKA_CA_SECRET is mounted in every worker.
const KafkaCADir = "/etc/streamforge/kafka-ca"

// envVars returns env sorted by name, so the same Spec always makes the same
// Job; with the CA mounted, KAFKA_CA_FILE points at it.
func envVars(env map[string]string, caMounted bool) []corev1.EnvVar {
	if len(env) == 0 && !caMounted {
		return nil
	}
	out := make([]corev1.EnvVar, 0, len(env)+1)
	for k, v := range env {
		if k == "KAFKA_CA_FILE" && caMounted {
			continue
		}
		out = append(out, corev1.EnvVar{Name: k, Value: v})
	}
	if caMounted {
		out = append(out, corev1.EnvVar{Name: "KAFKA_CA_FILE", Value: KafkaCADir + "/ca.crt"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func envFrom(cfg *Config, service string) []corev1.EnvFromSource {
	var out []corev1.EnvFromSource
	if cfg.ConfigMap != "" {
		// Required: it carries KAFKA_BOOTSTRAP_SERVERS; a worker without it
		// cannot report anything, so better it waits visibly
		// (CreateContainerConfigError) than starts blind.
		out = append(out, corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: cfg.ConfigMap},
		}})
	}
	if cfg.Secret != "" {
		// Optional: a PLAINTEXT cluster without ArangoDB has no credentials.
		out = append(out, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: cfg.Secret},
			Optional:             new(true),
		}})
	}
	if cfg.ServiceSecretPrefix != "" {
		// Required: a cluster that names per-service credentials must have
		// them; a Pod waiting in CreateContainerConfigError says which
		// Secret is missing, a worker logging in as nobody would not.
		out = append(out, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: cfg.ServiceSecretPrefix + service},
		}})
	}
	return out
}

// resources assumes Validate accepted the quantities.
func resources(cfg *Config) corev1.ResourceRequirements {
	var r corev1.ResourceRequirements
	set := func(list *corev1.ResourceList, name corev1.ResourceName, q string) {
		if q == "" {
			return
		}
		if *list == nil {
			*list = corev1.ResourceList{}
		}
		(*list)[name] = resource.MustParse(q)
	}
	set(&r.Requests, corev1.ResourceCPU, cfg.CPURequest)
	set(&r.Requests, corev1.ResourceMemory, cfg.MemoryRequest)
	set(&r.Limits, corev1.ResourceCPU, cfg.CPULimit)
	set(&r.Limits, corev1.ResourceMemory, cfg.MemoryLimit)
	return r
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
