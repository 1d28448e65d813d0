package objstore_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/streamforge/streamforge/libs/objstore"
	"github.com/streamforge/streamforge/libs/objstore/local"
)

func TestInstrument(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	ls, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := objstore.Instrument(ls, "local", objstore.NewMetrics(reg))
	defer s.Close()
	ctx := t.Context()

	if err := s.Put(ctx, "a", bytes.NewReader(make([]byte, 1000)), 1000, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "b", strings.NewReader("streamed"), -1, ""); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if _, err := s.Stat(ctx, "missing"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Stat(missing) = %v", err)
	}
	if err := s.Put(ctx, "../bad", strings.NewReader("x"), 1, ""); err == nil {
		t.Fatal("Put(../bad) succeeded")
	}

	want := `
# HELP streamforge_objstore_bytes_total Object bytes written by successful puts (direction=write) and read from gets (direction=read), by backend.
# TYPE streamforge_objstore_bytes_total counter
streamforge_objstore_bytes_total{backend="local",direction="read"} 1000
streamforge_objstore_bytes_total{backend="local",direction="write"} 1008
# HELP streamforge_objstore_operations_total Object-store calls by backend, operation and result (ok, not_found, error).
# TYPE streamforge_objstore_operations_total counter
streamforge_objstore_operations_total{backend="local",op="get",result="ok"} 1
streamforge_objstore_operations_total{backend="local",op="put",result="error"} 1
streamforge_objstore_operations_total{backend="local",op="put",result="ok"} 2
streamforge_objstore_operations_total{backend="local",op="stat",result="not_found"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"streamforge_objstore_bytes_total", "streamforge_objstore_operations_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "streamforge_objstore_operation_duration_seconds"); n != 3 {
		t.Errorf("duration series = %d, want 3 (get, put, stat)", n)
	}
	// A second NewMetrics on the same registry reuses the collectors.
	objstore.NewMetrics(reg)
}
