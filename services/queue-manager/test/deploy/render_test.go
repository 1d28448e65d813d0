//go:build integration

package deploy

import (
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestIntegrationRender: every overlay renders with kustomize v5.7.1, into
// one namespace, with fully qualified images and restricted security
// contexts; custom resources are listed (validated elsewhere against their
// projects' schemas, not by this API server).
func TestIntegrationRender(t *testing.T) {
	for _, ov := range overlays {
		t.Run(strings.ReplaceAll(ov, "/", "_"), func(t *testing.T) {
			objs := render(t, ov)
			kinds := map[string]int{}
			var crds []string
			for _, o := range objs {
				kinds[o.GetKind()]++
				if !isCore(o) {
					crds = append(crds, o.GetAPIVersion()+" "+o.GetKind()+"/"+o.GetName())
				}
				// deploy/ itself adds Fluent Bit's configuration (deploy/logging)
				// in the logging namespace.
				if o.GetKind() != "Namespace" && o.GetNamespace() != "stf" && !(ov == "." && o.GetNamespace() == "logging") {
					t.Errorf("%s %s: namespace %q, want stf", o.GetKind(), o.GetName(), o.GetNamespace())
				}
				if o.GetLabels()["app.kubernetes.io/part-of"] != "streamforge" {
					t.Errorf("%s %s: no app.kubernetes.io/part-of=streamforge label", o.GetKind(), o.GetName())
				}
			}
			for _, want := range []string{"Namespace", "Deployment", "Service", "ServiceAccount", "Role", "RoleBinding",
				"ConfigMap", "LimitRange", "PodDisruptionBudget", "NetworkPolicy"} {
				if kinds[want] == 0 {
					t.Errorf("no %s in deploy/%s", want, ov)
				}
			}
			if kinds["HTTPRoute"]+kinds["Ingress"] != 1 {
				t.Errorf("deploy/%s has %d HTTPRoutes and %d Ingresses, want exactly one way in", ov, kinds["HTTPRoute"], kinds["Ingress"])
			}
			if kinds["Secret"]+kinds["SecretProviderClass"] == 0 {
				t.Errorf("deploy/%s has neither the Secret nor a SecretProviderClass", ov)
			}
			for name, pt := range podTemplates(t, objs) {
				checkPodSecurity(t, name, pt.Spec)
			}
			sort.Strings(crds)
			t.Logf("deploy/%s: %d objects; custom resources (not served by the API server harness): %s", ov, len(objs), strings.Join(crds, ", "))
		})
	}
}

// checkPodSecurity asserts what the issue asks of every container: non-root,
// no privilege escalation, read-only root filesystem, all capabilities
// dropped, RuntimeDefault seccomp (Pod Security "restricted" and more).
func checkPodSecurity(t *testing.T, name string, ps corev1.PodSpec) {
	t.Helper()
	psc := ps.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s: pod securityContext.runAsNonRoot is not true", name)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod seccompProfile is not RuntimeDefault", name)
	}
	for _, c := range append(append([]corev1.Container{}, ps.InitContainers...), ps.Containers...) {
		sc := c.SecurityContext
		switch {
		case sc == nil:
			t.Errorf("%s/%s: no securityContext", name, c.Name)
			continue
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("%s/%s: allowPrivilegeEscalation is not false", name, c.Name)
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			t.Errorf("%s/%s: readOnlyRootFilesystem is not true", name, c.Name)
		case sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) > 0:
			t.Errorf("%s/%s: capabilities are not drop [ALL] with nothing added", name, c.Name)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s/%s: privileged", name, c.Name)
		}
		if !strings.Contains(c.Image, "/") || !(strings.Contains(c.Image, ":") || strings.Contains(c.Image, "@")) {
			t.Errorf("%s/%s: image %q is not <registry>/<name>:<tag> (no overlay set it)", name, c.Name, c.Image)
		}
		if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s/%s: no memory request and limit", name, c.Name)
		}
	}
}
