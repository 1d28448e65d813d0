//go:build integration

package kube

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestIntegrationRunSecret: the real API server accepts a run's Secret
// owned by its Job (the owner reference names the Job's uid) and the Job
// whose container reads the key from it; the Job holds no key.
func TestIntegrationRunSecret(t *testing.T) {
	client, ns := itClient(t)
	k := itLauncher(t, client, ns)
	ctx := t.Context()
	s := itSpec("loader-producer", "a1b2c3.load.1")
	s.Secrets = map[string]string{"MESSAGE_KEY": "00112233445566778899aabbccddeeff"}
	for range 2 {
		if err := k.Launch(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	job, err := client.BatchV1().Jobs(ns).Get(ctx, JobName(s.Service, s.ID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := client.CoreV1().Secrets(ns).Get(ctx, job.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(sec.Data["MESSAGE_KEY"]) != s.Secrets["MESSAGE_KEY"] || len(sec.OwnerReferences) != 1 || sec.OwnerReferences[0].UID != job.UID {
		t.Errorf("secret data %v owners %+v, want the key, owned by job uid %s", sec.Data, sec.OwnerReferences, job.UID)
	}
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "MESSAGE_KEY" && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
			t.Errorf("MESSAGE_KEY %+v, want a reference to the run's Secret", e)
		}
	}
}
