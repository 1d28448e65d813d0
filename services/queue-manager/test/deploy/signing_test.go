//go:build integration

package deploy

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/streamforge/streamforge/libs/protocol"
)

// signingSecret is the Secret holding queue-manager's message signing
// secret (key "secret"), which only queue-manager may mount: a worker that
// read it could sign any run's reports and commands.
const signingSecret = "streamforge-signing"

// TestIntegrationSigningSecretOnlyForQueueManager: in every overlay
// queue-manager reads its signing secret from a file of the Secret
// streamforge-signing, mounted read-only into its Pod alone; no other Pod
// template, no worker Job and no worker setting references it, JOB_SECRET
// is another Secret, no Role lets anyone read Secrets, and the plain
// component ships only a placeholder queue-manager refuses
// (protocol.SigningPlaceholder).
func TestIntegrationSigningSecretOnlyForQueueManager(t *testing.T) {
	forEachOverlay(t, func(t *testing.T, s *launchSetup) {
		if m := s.env["MESSAGE_SIGNING"]; m == "off" || m == "permissive" {
			t.Errorf("MESSAGE_SIGNING=%s, want required", m)
		}
		file := s.env["MESSAGE_SIGNING_SECRET_FILE"]
		if file == "" {
			t.Fatal("MESSAGE_SIGNING_SECRET_FILE is not set: queue-manager would sign with a random secret per process and relaunch every running worker after a restart")
		}
		if _, ok := s.env["MESSAGE_SIGNING_SECRET"]; ok {
			t.Error("MESSAGE_SIGNING_SECRET is in queue-manager's environment: the secret belongs in the mounted file only")
		}
		if !signingFileFromSecret(s.dep.Spec.Template.Spec, s.qm, file) {
			t.Errorf("MESSAGE_SIGNING_SECRET_FILE=%s is not key %q of Secret %s mounted read-only into queue-manager (mounts %+v)",
				file, "secret", signingSecret, s.qm.VolumeMounts)
		}
		if keys, ok := secretKeys(t, s.objs, signingSecret); !ok || !keys["secret"] {
			t.Errorf("Secret %s with key secret is neither in the render nor synced by a SecretProviderClass", signingSecret)
		}
		if s.cfg.Secret == signingSecret {
			t.Errorf("JOB_SECRET=%s: every worker Job would read the signing secret", s.cfg.Secret)
		}
		for name, pt := range s.pods(t) {
			if name == "Deployment/queue-manager" {
				continue
			}
			if refs := secretsReferenced(pt.Spec); refs[signingSecret] {
				t.Errorf("%s references Secret %s: only queue-manager may", name, signingSecret)
			}
			for _, c := range append(pt.Spec.InitContainers, pt.Spec.Containers...) {
				for _, e := range c.Env {
					if strings.HasPrefix(e.Name, "MESSAGE_SIGNING_SECRET") {
						t.Errorf("%s container %s has %s: workers get their run's key, never the secret", name, c.Name, e.Name)
					}
				}
			}
		}
		for k := range s.workerEnv {
			if strings.HasPrefix(k, "MESSAGE_SIGNING_SECRET") {
				t.Errorf("JOB_CONFIGMAP %s has %s: every worker Job reads it", s.cfg.ConfigMap, k)
			}
		}
		for _, o := range s.objs {
			if o.GetKind() != "Role" && o.GetKind() != "ClusterRole" {
				continue
			}
			for _, r := range convert[rbacv1.Role](t, o).Rules {
				if grants(r, "", "secrets", "get", "list", "watch") {
					t.Errorf("%s %s lets its subjects read Secrets (%+v), the signing secret among them", o.GetKind(), o.GetName(), r)
				}
			}
		}
		if u := find(s.objs, "Secret", signingSecret); u != nil {
			sec := convert[corev1.Secret](t, u)
			if v := sec.StringData["secret"]; !strings.HasPrefix(v, protocol.SigningPlaceholder) || sec.Annotations["streamforge.dev/placeholder"] != "true" {
				t.Errorf("Secret %s in the render holds %q: a manifest may ship only the placeholder queue-manager refuses", signingSecret, v)
			}
		}
	})
}

// signingFileFromSecret reports whether file is the key "secret" of the
// signing Secret, mounted read-only into container c of spec.
func signingFileFromSecret(spec corev1.PodSpec, c corev1.Container, file string) bool {
	for _, m := range c.VolumeMounts {
		dir := strings.TrimRight(m.MountPath, "/") + "/"
		if !m.ReadOnly || !strings.HasPrefix(file, dir) {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name != m.Name || v.Secret == nil || v.Secret.SecretName != signingSecret {
				continue
			}
			rel := strings.TrimPrefix(file, dir)
			if len(v.Secret.Items) == 0 {
				return rel == "secret"
			}
			for _, it := range v.Secret.Items {
				if it.Key == "secret" && it.Path == rel {
					return true
				}
			}
		}
	}
	return false
}

// secretsReferenced returns every Secret a Pod spec names: volumes
// (projected ones too), envFrom, env and image pull secrets.
func secretsReferenced(spec corev1.PodSpec) map[string]bool {
	out := map[string]bool{}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			out[v.Secret.SecretName] = true
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.Secret != nil {
					out[src.Secret.Name] = true
				}
			}
		}
	}
	for _, c := range append(spec.InitContainers, spec.Containers...) {
		for _, ef := range c.EnvFrom {
			if ef.SecretRef != nil {
				out[ef.SecretRef.Name] = true
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				out[e.ValueFrom.SecretKeyRef.Name] = true
			}
		}
	}
	for _, p := range spec.ImagePullSecrets {
		out[p.Name] = true
	}
	return out
}

// grants reports whether rule r allows any of verbs on resource in group.
func grants(r rbacv1.PolicyRule, group, resource string, verbs ...string) bool {
	has := func(list []string, v string) bool {
		for _, x := range list {
			if x == v || x == "*" {
				return true
			}
		}
		return false
	}
	if !has(r.APIGroups, group) || !has(r.Resources, resource) {
		return false
	}
	for _, v := range verbs {
		if has(r.Verbs, v) {
			return true
		}
	}
	return false
}

// TestIntegrationArgoKeepsFilledSecrets: every placeholder Secret an overlay
// ships (the signing secret among them) is one the Argo CD ApplicationSet
// ignores the /data of, so a sync never puts a placeholder back over the
// value filled in the cluster.
func TestIntegrationArgoKeepsFilledSecrets(t *testing.T) {
	ignored := map[string]bool{}
	for _, o := range render(t, "argocd") {
		if o.GetKind() != "ApplicationSet" {
			continue
		}
		ids, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "ignoreDifferences")
		for _, id := range ids {
			m, _ := id.(map[string]any)
			ptrs, _ := m["jsonPointers"].([]any)
			for _, p := range ptrs {
				if m["kind"] == "Secret" && p == "/data" {
					ignored[fmt.Sprint(m["name"])] = true
				}
			}
		}
	}
	for _, ov := range overlays {
		for _, o := range render(t, ov) {
			if o.GetKind() == "Secret" && o.GetAnnotations()["streamforge.dev/placeholder"] == "true" && !ignored[o.GetName()] {
				t.Errorf("deploy/%s: placeholder Secret %s is not in the ApplicationSet's ignoreDifferences: a sync would put the placeholder back", ov, o.GetName())
			}
		}
	}
}
