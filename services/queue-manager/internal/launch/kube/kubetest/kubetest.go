// Package kubetest connects integration tests to the real kube-apiserver
// platform/kube/kube.sh starts, and gives each test a namespace of its own.
package kubetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config is the REST config of the API server in KUBECONFIG; the test is
// skipped unless KUBE_IT=1.
func Config(t testing.TB) *rest.Config {
	t.Helper()
	if os.Getenv("KUBE_IT") != "1" {
		t.Skip("KUBE_IT is not 1: no kube-apiserver (platform/kube/kube.sh start; eval \"$(platform/kube/kube.sh env)\")")
	}
	path := os.Getenv("KUBECONFIG")
	if path == "" {
		t.Fatal("KUBE_IT=1 but KUBECONFIG is empty (eval \"$(platform/kube/kube.sh env)\")")
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// Namespace connects to the API server in KUBECONFIG (see Config) and
// creates a fresh namespace named prefix-<random>, with the default
// ServiceAccount the ServiceAccount admission plugin wants for Pods (made by
// kube-controller-manager in a cluster, which does not run here).
func Namespace(t testing.TB, prefix string) (kubernetes.Interface, string) {
	t.Helper()
	client, err := kubernetes.NewForConfig(Config(t))
	if err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	ns := prefix + "-" + hex.EncodeToString(b[:])
	ctx := t.Context()
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", ns, err)
	}
	t.Cleanup(func() {
		// Without kube-controller-manager the namespace stays Terminating;
		// the throwaway etcd goes with the next kube.sh start.
		if err := client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete namespace %s: %v", ns, err)
		}
	})
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}}
	if _, err := client.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create service account: %v", err)
	}
	return client, ns
}
