//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/streamforge/streamforge/libs/testkit"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/kube"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/kube/kubetest"
)

// kubeLeaseTTL is ENGINE_LEASE_TTL in TestRealKubeOneEngine. lead.Lease
// tries to take or renew the Lease every TTL/6.
const kubeLeaseTTL = 3 * time.Second

// TestRealKubeOneEngine runs two queue-managers with the Kubernetes
// launcher against a real kube-apiserver (platform/kube/kube.sh; skipped
// unless KUBE_IT=1) and the embedded broker: the Lease elects one engine.
// Jobs never run there (no kubelet), so which replica launches is read from
// the Lease's holder, the Jobs in the namespace and each replica's launch
// counter. The standby serves reads and answers changes with 503 and
// Retry-After. The leader is then killed with SIGKILL, so it cannot release
// the Lease: the standby takes it once it lapsed, within the lease duration
// and its own retry periods, launches what it is asked to, and keeps the
// running step's Job as it is.
func TestRealKubeOneEngine(t *testing.T) {
	client, ns := kubeNamespace(t)
	cfg := plain(t)
	db := t.TempDir() + "/qm.db"
	env := []string{"LAUNCHER=kubernetes", "KUBE_NAMESPACE=" + ns, "ENGINE_LEASE_TTL=" + kubeLeaseTTL.String(),
		// Nothing runs in the Jobs: no step may be judged silent meanwhile.
		"STEP_HEARTBEAT_TIMEOUT=10m"}
	q1 := startQM(t, cfg, db, env...)
	holder1 := holderOf(t, q1)
	waitHolder(t, client, ns, holder1, 30*time.Second)
	q2 := startQM(t, cfg, db, env...)
	holder2 := holderOf(t, q2)

	resp, err := http.Post(q2.base+"/api/v1/workflows", "application/json", strings.NewReader(oneLoad("BTCUSDT")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a change on the standby: %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	w := q1.submit(t, oneLoad("BTCUSDT"))
	run1 := w.Steps[0].ID + ".1"
	waitJobs(t, client, ns, []string{run1})
	q2.waitFor(t, w.ID, 30*time.Second, "running loader read on the standby", func(w flow.Workflow) bool {
		return w.Steps[0].State == flow.Running
	})
	if got := launches(t, q1); got != 1 {
		t.Errorf("leader launched %d steps, want 1", got)
	}
	if got := launches(t, q2); got != 0 {
		t.Errorf("standby launched %d steps, want 0", got)
	}
	if got := leaseOf(t, client, ns).Spec.HolderIdentity; got == nil || *got != holder1 {
		t.Fatalf("Lease held by %v while both run, want the first queue-manager %s", got, holder1)
	}

	killed := time.Now()
	q1.p.Kill()
	lease := waitHolder(t, client, ns, holder2, 2*kubeLeaseTTL)
	tookLease := time.Since(killed)
	var w2 flow.Workflow
	for {
		resp, err := http.Post(q2.base+"/api/v1/workflows", "application/json", strings.NewReader(oneLoad("ETHUSDT")))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusAccepted {
			if err := decodeJSON(resp, &w2); err != nil {
				t.Fatal(err)
			}
			break
		}
		resp.Body.Close()
		if time.Since(killed) > time.Minute {
			t.Fatalf("the new leader still refuses changes: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	accepting := time.Since(killed)
	t.Logf("leader killed: Lease taken after %s, changes accepted after %s (lease %s)",
		tookLease.Round(time.Millisecond), accepting.Round(time.Millisecond), kubeLeaseTTL)

	// client-go's elector (lead.Lease) renews every TTL/6 and a candidate
	// retries every TTL/6 with up to 1.2 times that added as jitter. The
	// standby last saw a renewal at most one retry after it happened, and
	// the leader died at most one renewal later; it takes the Lease at its
	// first retry once the lease lapsed since: the lease duration plus at
	// most two jittered retry periods.
	retry := kubeLeaseTTL / 6
	if bound := kubeLeaseTTL + 2*(retry+retry*12/10); tookLease > bound {
		t.Errorf("the standby took the Lease %s after the leader died, want within %s", tookLease, bound)
	}
	if got := *lease.Spec.LeaseDurationSeconds; got != int32(kubeLeaseTTL/time.Second) {
		t.Errorf("Lease duration %d s, want %s", got, kubeLeaseTTL)
	}
	if lease.Spec.LeaseTransitions == nil || *lease.Spec.LeaseTransitions != 1 {
		t.Errorf("Lease transitions %v, want 1", lease.Spec.LeaseTransitions)
	}

	waitJobs(t, client, ns, []string{run1, w2.Steps[0].ID + ".1"})
	if got := launches(t, q2); got != 1 {
		t.Errorf("new leader launched %d steps, want 1 (the new workflow's)", got)
	}
	got := q2.get(t, w.ID)
	if s := got.Steps[0]; s.State != flow.Running || len(s.Attempts) != 1 {
		t.Errorf("the killed leader's running step after the takeover: %s with attempts %+v, want its one run kept", s.State, s.Attempts)
	}
}

func oneLoad(symbol string) string {
	return fmt.Sprintf(`{"symbols":[%q],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02","steps":["load"]}`, symbol)
}

// kubeNamespace connects to the kube-apiserver in KUBECONFIG and creates
// a fresh namespace for the test.
func kubeNamespace(t *testing.T) (kubernetes.Interface, string) {
	t.Helper()
	return kubetest.Namespace(t, "stf-e2e")
}

// holderOf is the identity queue-manager q campaigns with (its log says).
func holderOf(t *testing.T, q *qm) string {
	t.Helper()
	line := testkit.Grep(q.p.Stderr(), "taking the engine lease")
	_, rest, ok := strings.Cut(line, `"holder":"`)
	holder, _, ok2 := strings.Cut(rest, `"`)
	if !ok || !ok2 || holder == "" {
		t.Fatalf("no holder in the start line %q", line)
	}
	return holder
}

func leaseOf(t *testing.T, client kubernetes.Interface, ns string) *coordinationv1.Lease {
	t.Helper()
	l, err := client.CoordinationV1().Leases(ns).Get(t.Context(), "queue-manager", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// waitHolder waits until holder holds the engine Lease and returns it.
func waitHolder(t *testing.T, client kubernetes.Interface, ns, holder string, timeout time.Duration) *coordinationv1.Lease {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var seen string
	for {
		l, err := client.CoordinationV1().Leases(ns).Get(t.Context(), "queue-manager", metav1.GetOptions{})
		switch {
		case err == nil:
			if l.Spec.HolderIdentity != nil {
				if seen = *l.Spec.HolderIdentity; seen == holder {
					return l
				}
			}
		case !apierrors.IsNotFound(err):
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("Lease held by %q after %s, want %s", seen, timeout, holder)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitJobs waits until the Jobs in ns are those of runs, and no others.
func waitJobs(t *testing.T, client kubernetes.Interface, ns string, runs []string) {
	t.Helper()
	want := strings.Join(slices.Sorted(slices.Values(runs)), " ")
	deadline := time.Now().Add(30 * time.Second)
	for {
		jobs, err := client.BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, j := range jobs.Items {
			got = append(got, j.Annotations[kube.AnnotationRunID])
		}
		slices.Sort(got)
		if strings.Join(got, " ") == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Jobs of runs %q, want %q", got, runs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// launches is the step launches queue-manager q counted.
func launches(t *testing.T, q *qm) int {
	t.Helper()
	var n int
	for _, l := range strings.Split(testkit.Grep(q.p.Metrics(t), "streamforge_step_launches_total{"), "\n") {
		var c int
		if _, v, ok := strings.Cut(l, "} "); ok {
			if _, err := fmt.Sscan(v, &c); err != nil {
				t.Fatalf("metric line %q: %v", l, err)
			}
		}
		n += c
	}
	return n
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
