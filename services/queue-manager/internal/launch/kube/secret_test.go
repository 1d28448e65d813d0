package kube

import (
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// TestRunSecrets: a run's Secrets (its signing key) are not in the Job: the
// container refers to a Secret named like the Job, which the Job owns (the
// garbage collector deletes it with the Job); launching the run again
// keeps the one Secret.
func TestRunSecrets(t *testing.T) {
	ctx := t.Context()
	client := fake.NewClientset()
	k := newTestLauncher(t, client)
	s := testSpec()
	s.Secrets = map[string]string{"MESSAGE_KEY": "00112233445566778899aabbccddeeff"}
	for range 2 {
		if err := k.Launch(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	job, err := client.BatchV1().Jobs("stf").Get(ctx, JobName(s.Service, s.ID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(job); strings.Contains(string(b), s.Secrets["MESSAGE_KEY"]) {
		t.Errorf("the Job holds the run's key: %s", b)
	}
	var ref bool
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "MESSAGE_KEY" {
			ref = e.Value == "" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil &&
				e.ValueFrom.SecretKeyRef.Name == job.Name && e.ValueFrom.SecretKeyRef.Key == "MESSAGE_KEY"
		}
	}
	if !ref {
		t.Errorf("container env %+v: want MESSAGE_KEY from the Secret %s", job.Spec.Template.Spec.Containers[0].Env, job.Name)
	}
	secs, err := client.CoreV1().Secrets("stf").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(secs.Items) != 1 {
		t.Fatalf("%d secrets, want 1", len(secs.Items))
	}
	sec := secs.Items[0]
	if sec.Name != job.Name || sec.StringData["MESSAGE_KEY"] != s.Secrets["MESSAGE_KEY"] || len(sec.OwnerReferences) != 1 ||
		sec.OwnerReferences[0].Kind != "Job" || sec.OwnerReferences[0].Name != job.Name || sec.OwnerReferences[0].UID != job.UID {
		t.Errorf("secret %s data %v owners %+v, want %s holding the key, owned by the Job", sec.Name, sec.StringData, sec.OwnerReferences, job.Name)
	}
}
