//go:build integration

package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/kube"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/kube/kubetest"
)

const fieldManager = "streamforge-deploy-test"

type apiServer struct {
	rc     *rest.Config
	warn   *warnings
	client kubernetes.Interface
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

// connect reaches the kube-apiserver in KUBECONFIG (kube.sh), collecting
// every warning it sends.
func connect(t *testing.T) *apiServer {
	t.Helper()
	rc := kubetest.Config(t)
	w := &warnings{}
	rc.WarningHandler = w
	rc.QPS, rc.Burst = 50, 100
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := restmapper.GetAPIGroupResources(client.Discovery())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &apiServer{rc: rc, warn: w, client: client, dyn: dyn, mapper: restmapper.NewDiscoveryRESTMapper(groups)}
}

// apply server-side applies u (dryRun: nothing is stored) with strict field
// validation, and returns the API server's error and warnings.
func (a *apiServer) apply(ctx context.Context, u *unstructured.Unstructured, dryRun bool) ([]string, error) {
	m, err := a.mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
	if err != nil {
		return nil, err
	}
	var ri dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = a.dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	opts := metav1.ApplyOptions{FieldManager: fieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	a.warn.take()
	// ApplyOptions carries no field validation; Apply through Patch does.
	data, err := u.MarshalJSON()
	if err != nil {
		return nil, err
	}
	po := metav1.PatchOptions{FieldManager: fieldManager, Force: &opts.Force, DryRun: opts.DryRun, FieldValidation: "Strict"}
	_, err = ri.Patch(ctx, u.GetName(), types.ApplyPatchType, data, po)
	return a.warn.take(), err
}

func randomSuffix(t *testing.T) string {
	t.Helper()
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// TestIntegrationServerDryRun: the real kube-apiserver accepts every core-API
// object of every overlay (server-side apply, dry run, strict field
// validation, no warning), and a Pod made from every Pod template (the
// launcher's Job included) passes admission in the rendered namespace:
// Pod Security "restricted" enforced by its labels, the LimitRange applied.
// The namespace, the ServiceAccounts and the LimitRange are created for
// real first (admission needs them); custom resources are listed and skipped.
func TestIntegrationServerDryRun(t *testing.T) {
	a := connect(t)
	ctx := t.Context()
	for _, ov := range overlays {
		t.Run(strings.ReplaceAll(ov, "/", "_"), func(t *testing.T) {
			objs := render(t, ov)
			var skipped []string
			real := map[string]bool{"Namespace": true, "ServiceAccount": true, "LimitRange": true}
			// Namespaces the render uses but does not define (deploy/logging's).
			for _, o := range objs {
				if n := o.GetNamespace(); n != "" && n != "stf" {
					if _, err := a.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
						t.Fatal(err)
					}
				}
			}
			// Real objects first, the namespace before the rest.
			sort.SliceStable(objs, func(i, j int) bool { return objs[i].GetKind() == "Namespace" && objs[j].GetKind() != "Namespace" })
			for _, pass := range []bool{true, false} {
				for _, o := range objs {
					if real[o.GetKind()] != pass {
						continue
					}
					if !isCore(o) {
						if !pass {
							skipped = append(skipped, o.GetAPIVersion()+" "+o.GetKind()+"/"+o.GetName())
						}
						continue
					}
					warns, err := a.apply(ctx, o, !pass)
					if err != nil {
						t.Errorf("%s %s/%s rejected: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
					}
					for _, w := range warns {
						t.Errorf("%s %s/%s: API server warning: %s", o.GetKind(), o.GetNamespace(), o.GetName(), w)
					}
				}
			}
			// The Jobs' default ServiceAccount (kube-controller-manager makes
			// it on a real cluster; the harness runs none).
			sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "stf"}}
			if _, err := a.client.CoreV1().ServiceAccounts("stf").Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}

			// Every Pod template as a Pod, and the launcher's Job itself.
			env, _, _ := qmEnv(t, objs)
			job := launcherJob(t, kubeConfig(t, env))
			templates := podTemplates(t, objs)
			templates["launcher Job"] = job.Spec.Template
			if ov == "overlays/lab" {
				jt := readJobTemplate(t)
				templates["deploy/jobs/worker-job.yaml"] = jt.Spec.Template
				if _, err := a.client.BatchV1().Jobs("stf").Create(ctx, jt, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}); err != nil {
					t.Errorf("deploy/jobs/worker-job.yaml rejected: %v", err)
				}
			}
			a.warn.take()
			if _, err := a.client.BatchV1().Jobs("stf").Create(ctx, job, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}); err != nil {
				t.Errorf("the launcher's Job rejected in stf: %v", err)
			}
			for _, w := range a.warn.take() {
				t.Errorf("the launcher's Job: API server warning: %s", w)
			}
			for name, pt := range templates {
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "dry-run-", Namespace: "stf", Labels: pt.Labels}, Spec: pt.Spec}
				if pod.Spec.RestartPolicy == "" {
					pod.Spec.RestartPolicy = corev1.RestartPolicyAlways
				}
				got, err := a.client.CoreV1().Pods("stf").Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
				if err != nil {
					t.Errorf("a Pod from %s is not admitted in stf: %v", name, err)
					continue
				}
				for _, w := range a.warn.take() {
					t.Errorf("a Pod from %s: API server warning: %s", name, w)
				}
				for _, c := range got.Spec.Containers {
					if c.Resources.Limits.Memory().IsZero() {
						t.Errorf("a Pod from %s: container %s has no memory limit after admission", name, c.Name)
					}
				}
			}
			sort.Strings(skipped)
			t.Logf("deploy/%s: %d objects; not served by this API server, skipped: %s", ov, len(objs), strings.Join(skipped, ", "))
		})
	}
}

func readJobTemplate(t *testing.T) *batchv1.Job {
	t.Helper()
	b, err := os.ReadFile(repoRoot(t) + "/deploy/jobs/worker-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job batchv1.Job
	if err := yaml.UnmarshalStrict(b, &job); err != nil {
		t.Fatal(err)
	}
	return &job
}

// TestIntegrationRBAC applies the lab's ServiceAccount, Role and RoleBinding
// for real in a fresh namespace and, impersonating the ServiceAccount, proves
// them sufficient (the real kube launcher launches, lists, watches, re-adopts
// and stops a Job) and minimal (a SubjectAccessReview for every verb on the
// resources that matter gives exactly the launcher's set; real calls outside
// it are forbidden: deleting a Deployment, reading Secrets, creating a Job in
// another namespace, creating Pods, reading another namespace's Pod logs,
// patching a Job).
func TestIntegrationRBAC(t *testing.T) {
	a := connect(t)
	ctx := t.Context()
	objs := render(t, "overlays/lab")
	ns := "stf-rbac-" + randomSuffix(t)
	other := "stf-other-" + randomSuffix(t)
	for _, n := range []string{ns, other} {
		if _, err := a.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			// Without kube-controller-manager the namespace stays
			// Terminating; the throwaway etcd goes with the next kube.sh start.
			_ = a.client.CoreV1().Namespaces().Delete(context.Background(), n, metav1.DeleteOptions{})
		})
	}
	var saName string
	for _, o := range objs {
		switch o.GetKind() {
		case "ServiceAccount", "Role", "RoleBinding":
		default:
			continue
		}
		c := o.DeepCopy()
		c.SetNamespace(ns)
		if c.GetKind() == "RoleBinding" {
			rb := convert[rbacv1.RoleBinding](t, c)
			for i := range rb.Subjects {
				if rb.Subjects[i].Kind == "ServiceAccount" {
					if rb.Subjects[i].Namespace != "stf" {
						t.Errorf("RoleBinding %s binds ServiceAccount %s/%s, want the stf namespace", rb.Name, rb.Subjects[i].Namespace, rb.Subjects[i].Name)
					}
					rb.Subjects[i].Namespace = ns
					saName = rb.Subjects[i].Name
				}
			}
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(rb)
			if err != nil {
				t.Fatal(err)
			}
			c = &unstructured.Unstructured{Object: m}
			c.SetAPIVersion("rbac.authorization.k8s.io/v1")
			c.SetKind("RoleBinding")
		}
		if _, err := a.apply(ctx, c, false); err != nil {
			t.Fatalf("apply %s %s: %v", c.GetKind(), c.GetName(), err)
		}
	}
	env, _, dep := qmEnv(t, objs)
	if saName == "" || saName != dep.Spec.Template.Spec.ServiceAccountName {
		t.Fatalf("the RoleBinding binds %q, queue-manager runs as %q", saName, dep.Spec.Template.Spec.ServiceAccountName)
	}
	user := "system:serviceaccount:" + ns + ":" + saName
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}
	// The authorizer reads Roles and RoleBindings from a cache that lags
	// the write by a moment: wait until the binding is in effect.
	eventually(t, 10*time.Second, "the RoleBinding to take effect", func() bool {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: groups,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Group: "batch", Resource: "jobs"}}}
		got, err := a.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		return err == nil && got.Status.Allowed
	})

	t.Run("AccessMatrix", func(t *testing.T) {
		type res struct{ group, resource, sub string }
		want := map[res]map[string]bool{
			{"batch", "jobs", ""}:                 {"get": true, "list": true, "watch": true, "create": true, "delete": true},
			{"", "pods", ""}:                      {"list": true, "watch": true},
			{"", "pods", "log"}:                   {"get": true},
			{"coordination.k8s.io", "leases", ""}: {"get": true, "create": true, "update": true},
			{"", "secrets", ""}:                   {"create": true}, // a run's signing key; never read
		}
		resources := []res{
			{"batch", "jobs", ""}, {"batch", "jobs", "status"}, {"", "pods", ""}, {"", "pods", "log"}, {"", "pods", "exec"},
			{"", "pods", "eviction"}, {"", "secrets", ""}, {"", "configmaps", ""}, {"", "events", ""},
			{"events.k8s.io", "events", ""}, {"", "serviceaccounts", ""}, {"", "serviceaccounts", "token"},
			{"apps", "deployments", ""}, {"batch", "cronjobs", ""}, {"rbac.authorization.k8s.io", "roles", ""},
			{"rbac.authorization.k8s.io", "rolebindings", ""}, {"", "namespaces", ""}, {"coordination.k8s.io", "leases", ""},
		}
		verbs := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "impersonate", "bind", "escalate"}
		var allowed []string
		for _, n := range []string{ns, other} {
			for _, r := range resources {
				for _, v := range verbs {
					sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
						User: user, Groups: groups,
						ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: n, Verb: v, Group: r.group, Resource: r.resource, Subresource: r.sub},
					}}
					got, err := a.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
					if err != nil {
						t.Fatal(err)
					}
					exp := n == ns && want[r][v]
					if got.Status.Allowed != exp {
						t.Errorf("%s %s %s/%s in %s: allowed=%v, want %v", user, v, r.group, r.resource+"/"+r.sub, n, got.Status.Allowed, exp)
					}
					if got.Status.Allowed {
						allowed = append(allowed, fmt.Sprintf("%s %s", v, strings.TrimSuffix(r.resource+"/"+r.sub, "/")))
					}
				}
			}
		}
		t.Logf("%d checks (%d resources x %d verbs x 2 namespaces); allowed: %s", 2*len(resources)*len(verbs), len(resources), len(verbs), strings.Join(allowed, ", "))
	})

	irc := rest.CopyConfig(a.rc)
	irc.WarningHandler = nil
	irc.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	imp, err := kubernetes.NewForConfig(irc)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("LauncherWorks", func(t *testing.T) {
		cfg := kubeConfig(t, env)
		cfg.Namespace = ns
		k, err := kube.New(imp, cfg, kube.WithSyncTimeout(20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var seen []launch.Status
		wctx, stop := context.WithCancel(ctx)
		werr := make(chan error, 1)
		go func() {
			werr <- k.Watch(wctx, func(s launch.Status) {
				mu.Lock()
				seen = append(seen, s)
				mu.Unlock()
			})
		}()
		defer func() {
			stop()
			if err := <-werr; err != nil {
				t.Errorf("Watch as %s: %v", user, err)
			}
		}()
		spec := workerSpec()
		phases := func() []launch.Phase {
			mu.Lock()
			defer mu.Unlock()
			var out []launch.Phase
			for _, s := range seen {
				if s.ID == spec.ID {
					out = append(out, s.Phase)
				}
			}
			return out
		}
		if err := k.Launch(ctx, spec); err != nil {
			t.Fatalf("Launch as %s: %v", user, err)
		}
		if err := k.Launch(ctx, spec); err != nil { // exists: re-adopted through get
			t.Fatalf("second Launch (re-adopt) as %s: %v", user, err)
		}
		eventually(t, 20*time.Second, "Watch to report the run pending", func() bool {
			for _, p := range phases() {
				if p == launch.Pending {
					return true
				}
			}
			return false
		})
		runs, err := k.Runs(ctx)
		if err != nil {
			t.Fatalf("Runs as %s: %v", user, err)
		}
		if len(runs) != 1 || runs[0].ID != spec.ID {
			t.Fatalf("Runs = %+v, want the one run", runs)
		}
		if err := k.Stop(ctx, spec.ID); err != nil {
			t.Fatalf("Stop as %s: %v", user, err)
		}
		eventually(t, 20*time.Second, "Watch to report the stopped run vanished", func() bool {
			ps := phases()
			return len(ps) > 0 && ps[len(ps)-1] == launch.Vanished
		})
		if _, err := a.client.BatchV1().Jobs(ns).Get(ctx, kube.JobName(spec.Service, spec.ID), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("the Job is still there after Stop: %v", err)
		}
		t.Logf("as %s: Launch, re-adopt, Watch, Runs, Stop all allowed; statuses %v", user, phases())
	})

	t.Run("OutsideIsForbidden", func(t *testing.T) {
		one := int32(1)
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "victim", Namespace: ns},
			Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"x": "y"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"x": "y"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example/x:1"}}}}},
		}
		if _, err := a.client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"streamforge-secrets", signingSecret} {
			sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: map[string]string{"K": "v"}}
			if _, err := a.client.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		job := launcherJob(t, kubeConfig(t, env))
		job.Namespace = other
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns}, Spec: job.Spec.Template.Spec}
		calls := map[string]func() error{
			"delete a Deployment": func() error { return imp.AppsV1().Deployments(ns).Delete(ctx, "victim", metav1.DeleteOptions{}) },
			"get a Secret": func() error {
				_, err := imp.CoreV1().Secrets(ns).Get(ctx, "streamforge-secrets", metav1.GetOptions{})
				return err
			},
			// queue-manager gets it as a mounted file, not through the API.
			"get the signing Secret": func() error {
				_, err := imp.CoreV1().Secrets(ns).Get(ctx, signingSecret, metav1.GetOptions{})
				return err
			},
			"update the signing Secret": func() error {
				sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: signingSecret, Namespace: ns}, StringData: map[string]string{"secret": "forged"}}
				_, err := imp.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{})
				return err
			},
			"list Secrets": func() error { _, err := imp.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); return err },
			"create a Job in another namespace": func() error {
				_, err := imp.BatchV1().Jobs(other).Create(ctx, job, metav1.CreateOptions{})
				return err
			},
			"create a Pod": func() error { _, err := imp.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); return err },
			// Its own namespace's Pod logs it may read (GET …/steps/{step}/logs).
			"read Pod logs in another namespace": func() error {
				return imp.CoreV1().Pods(other).GetLogs("p", &corev1.PodLogOptions{}).Do(ctx).Error()
			},
			"patch a Job": func() error {
				_, err := imp.BatchV1().Jobs(ns).Patch(ctx, "any", types.MergePatchType, []byte(`{"metadata":{"labels":{"a":"b"}}}`), metav1.PatchOptions{})
				return err
			},
			"delete all Jobs at once": func() error {
				return imp.BatchV1().Jobs(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
			},
		}
		for what, call := range calls {
			if err := call(); !apierrors.IsForbidden(err) {
				t.Errorf("%s as %s: got %v, want 403 Forbidden", what, user, err)
			}
		}
		t.Logf("%d calls outside the Role all answered 403", len(calls))
	})

	// Worker Pods run as JOB_SERVICE_ACCOUNT with no RBAC: they cannot read
	// the signing secret (nor any other) through the API either.
	t.Run("WorkersReadNoSecret", func(t *testing.T) {
		worker := "system:serviceaccount:" + ns + ":" + kubeConfig(t, env).ServiceAccount
		for _, v := range []string{"get", "list", "watch"} {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: worker, Groups: groups,
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: v, Resource: "secrets", Name: signingSecret}}}
			got, err := a.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status.Allowed {
				t.Errorf("%s may %s Secret %s", worker, v, signingSecret)
			}
		}
	})
}
