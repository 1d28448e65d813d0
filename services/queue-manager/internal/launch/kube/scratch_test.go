package kube

import (
	"strings"
	"testing"
)

// TestScratchHasASizeLimit: the worker's scratch emptyDir (/tmp, where
// archives are spooled) is bounded by JOB_SCRATCH_LIMIT, so a run cannot
// fill its node's disk; an empty setting leaves it unbounded, a bad one is
// refused naming the variable.
func TestScratchHasASizeLimit(t *testing.T) {
	cfg := defaultConfig(t)
	job, err := buildJob(&cfg, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, v := range job.Spec.Template.Spec.Volumes {
		if v.Name != "tmp" {
			continue
		}
		found = true
		if v.EmptyDir == nil || v.EmptyDir.SizeLimit == nil || v.EmptyDir.SizeLimit.String() != "8Gi" {
			t.Errorf("scratch volume %+v, want an emptyDir with sizeLimit 8Gi (the default)", v.VolumeSource)
		}
	}
	if !found {
		t.Fatal("no scratch volume tmp")
	}
	cfg.ScratchLimit = ""
	job, err = buildJob(&cfg, testSpec())
	if err != nil || job.Spec.Template.Spec.Volumes[0].EmptyDir.SizeLimit != nil {
		t.Errorf("JOB_SCRATCH_LIMIT empty: %v, want no sizeLimit", err)
	}
	cfg.ScratchLimit = "lots"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "JOB_SCRATCH_LIMIT") {
		t.Errorf("Validate() = %v, want an error naming JOB_SCRATCH_LIMIT", err)
	}
}
