package local_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/local"
)

// TestChildGetsOnlyWhatItNeeds: a child's environment is the variables
// Pass names (Kafka, store, PATH), the launcher's Env and its task's
// variables; queue-manager's other variables — its own credentials above
// all — do not reach it.
func TestChildGetsOnlyWhatItNeeds(t *testing.T) {
	t.Setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
	t.Setenv("STORE_PATH", "/data/qm.db")
	t.Setenv("OIDC_CLIENT_SECRET", "hunter2")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI")
	t.Setenv("QM_ADMIN_TOKEN", "s3cr3t")
	bins, out := t.TempDir(), filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(filepath.Join(bins, "printenv"), []byte("#!/bin/sh\nenv > \"$ENV_OUT\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	envDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(envDir, "printenv.env"), []byte("# the service's own user\nKAFKA_USERNAME=streamforge-printenv\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := local.New(local.Options{BinDir: bins, Pass: []string{"PATH", "KAFKA_*", "STORE_*"}, ServiceEnvDir: envDir})
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ended := make(chan launch.Status, 1)
	go func() {
		_ = l.Watch(ctx, func(st launch.Status) {
			if st.Phase.Terminal() {
				ended <- st
			}
		})
	}()
	if err := l.Launch(ctx, launch.Spec{ID: "env.1", Service: "printenv",
		Env:     map[string]string{"QUEUE_ID": "wf-btcusdt-api_trades-20240801-a1b2c3", "ENV_OUT": out},
		Secrets: map[string]string{"MESSAGE_KEY": "00ff"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case st := <-ended:
		if st.Phase != launch.Succeeded {
			t.Fatalf("child ended %s %q", st.Phase, st.Message)
		}
	case <-ctx.Done():
		t.Fatal("the child did not end")
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		name, _, _ := strings.Cut(line, "=")
		names = append(names, name)
	}
	if !strings.Contains(string(b), "\nKAFKA_USERNAME=streamforge-printenv\n") && !strings.HasPrefix(string(b), "KAFKA_USERNAME=streamforge-printenv\n") {
		t.Errorf("the service's env file did not reach the child:\n%s", b)
	}
	for _, want := range []string{"PATH", "KAFKA_BOOTSTRAP_SERVERS", "STORE_PATH", "QUEUE_ID", "HTTP_ADDR", "MESSAGE_KEY"} {
		if !slices.Contains(names, want) {
			t.Errorf("child's environment has no %s: %v", want, names)
		}
	}
	for _, secret := range []string{"OIDC_CLIENT_SECRET", "AWS_SECRET_ACCESS_KEY", "QM_ADMIN_TOKEN"} {
		if slices.Contains(names, secret) || strings.Contains(string(b), os.Getenv(secret)) {
			t.Errorf("queue-manager's %s reached the child", secret)
		}
	}
}

func TestInherit(t *testing.T) {
	env := []string{"PATH=/bin", "KAFKA_A=1", "KAFKAX=2", "HOME=/root", "SECRET=x", "=weird"}
	got := local.Inherit(env, []string{"PATH", "KAFKA_*", "HOM"})
	if want := []string{"PATH=/bin", "KAFKA_A=1"}; !slices.Equal(got, want) {
		t.Errorf("Inherit = %v, want %v", got, want)
	}
}
