package objstoreopen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/streamforge/streamforge/libs/objstore"
)

func TestOpenLocal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "artifacts")
	reg := prometheus.NewRegistry()
	s, err := Open(t.Context(), objstore.Config{ArtifactDir: dir}, WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Put(t.Context(), "m/x", strings.NewReader("x"), 1, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "m", "x")); err != nil {
		t.Errorf("object not in ARTIFACT_DIR: %v", err)
	}
	want := `
# HELP streamforge_objstore_operations_total Object-store calls by backend, operation and result (ok, not_found, error).
# TYPE streamforge_objstore_operations_total counter
streamforge_objstore_operations_total{backend="local",op="put",result="ok"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "streamforge_objstore_operations_total"); err != nil {
		t.Error(err)
	}
}

func TestOpenS3ValidatesAndFailsFast(t *testing.T) {
	cfg := objstore.Config{Endpoint: "127.0.0.1:1", AccessKey: "a", SecretKey: "s", Bucket: "models", OpenTimeout: 5 * time.Second}
	start := time.Now()
	if _, err := Open(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "MINIO_ENDPOINT") {
		t.Errorf("Open(unreachable) = %v, want an error naming MINIO_ENDPOINT", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Open(unreachable) took %s", took)
	}
	cfg.SecretKey = ""
	if _, err := Open(t.Context(), cfg); err == nil || !strings.HasPrefix(err.Error(), "MINIO_SECRET_KEY") {
		t.Errorf("Open without a secret = %v, want a MINIO_SECRET_KEY error", err)
	}
}
