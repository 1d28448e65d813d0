//go:build integration

package deploy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

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
