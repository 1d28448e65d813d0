package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// A run's Spec.Secrets (its message signing key) are not written into the
// Job, where anyone who may read Jobs would see them: they go into a Secret
// named like the Job, which the container's environment refers to and
// which the Job owns, so the garbage collector deletes it with the Job.
// queue-manager may create Secrets, never read them.

// addSecretEnv refers the worker container to the run's Secret for each
// variable of secrets.
func addSecretEnv(job *batchv1.Job, secrets map[string]string) {
	names := make([]string, 0, len(secrets))
	for k := range secrets {
		names = append(names, k)
	}
	sort.Strings(names)
	c := &job.Spec.Template.Spec.Containers[0]
	for _, k := range names {
		c.Env = append(c.Env, corev1.EnvVar{Name: k, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: job.Name}, Key: k}}})
	}
}

// createRunSecret creates the Secret of s's run, owned by job; one that
// exists already (a re-adopted run) is left alone. A worker's Pod waits
// for it (CreateContainerConfigError) until it exists.
func (k *Launcher) createRunSecret(ctx context.Context, job *batchv1.Job, s launch.Spec) error {
	if len(s.Secrets) == 0 {
		return nil
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: job.Name, Namespace: job.Namespace, Labels: copyMap(job.Labels),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID}},
		},
		Type:       corev1.SecretTypeOpaque,
		StringData: s.Secrets,
	}
	_, err := k.client.CoreV1().Secrets(job.Namespace).Create(ctx, sec, metav1.CreateOptions{})
	switch {
	case err == nil, apierrors.IsAlreadyExists(err):
		return nil
	case unavailable(err):
		return fmt.Errorf("launch %s: create secret %s: %w", s.ID, sec.Name, errors.Join(launch.ErrUnavailable, err))
	default:
		return fmt.Errorf("launch %s: create secret %s: %w", s.ID, sec.Name, err)
	}
}
