package kube

import (
	"strings"
	"testing"
)

// A one-node cluster with the embedded store: every worker mounts the
// store's claim read-write at StoreDir, next to its scratch /tmp; without
// JOB_STORE_CLAIM nothing but the scratch is mounted. A claim, never a
// hostPath, which the namespace's PodSecurity level (restricted) refuses.
func TestBuildJobStoreHostPath(t *testing.T) {
	cfg := defaultConfig(t)
	job, err := buildJob(&cfg, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	if v := job.Spec.Template.Spec.Volumes; len(v) != 1 || v[0].Name != "tmp" {
		t.Fatalf("volumes without JOB_STORE_CLAIM: %+v", v)
	}

	cfg.StoreClaim = "streamforge-store"
	job, err = buildJob(&cfg, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	pod := job.Spec.Template.Spec
	var found bool
	for _, v := range pod.Volumes {
		if v.Name != "store" {
			continue
		}
		found = true
		if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "streamforge-store" || v.HostPath != nil {
			t.Errorf("store volume %+v, want the claim streamforge-store", v.VolumeSource)
		}
	}
	if !found {
		t.Fatalf("no store volume in %+v", pod.Volumes)
	}
	var mounted bool
	for _, m := range pod.Containers[0].VolumeMounts {
		if m.Name == "store" {
			mounted = m.MountPath == StoreDir && !m.ReadOnly
		}
	}
	if !mounted {
		t.Errorf("mounts %+v lack store read-write at %s", pod.Containers[0].VolumeMounts, StoreDir)
	}
}

func TestConfigValidateStoreClaim(t *testing.T) {
	cfg := defaultConfig(t)
	cfg.StoreClaim = "Store_Claim"
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "JOB_STORE_CLAIM") {
		t.Fatalf("JOB_STORE_CLAIM %q: %v", cfg.StoreClaim, err)
	}
	cfg.StoreClaim = "streamforge-store"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}
