package local

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/objstore"
	"github.com/streamforge/streamforge/libs/objstore/objstoretest"
)

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	objstoretest.Run(t, func(t *testing.T) objstore.Store {
		dir := t.TempDir()
		s := open(t, dir)
		t.Cleanup(func() { checkNoLeftovers(t, dir) })
		return s
	})
}

// checkNoLeftovers fails when a temporary file survived, or a sidecar has
// no object: failed and cancelled puts must clean up after themselves.
func checkNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(d.Name(), tmpPrefix) {
			t.Errorf("temporary file left behind: %s", rel)
		}
		if meta, ok := strings.CutPrefix(rel, metaDir+"/"); ok && !d.IsDir() {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(meta))); err != nil {
				t.Errorf("sidecar %s has no object: %v", rel, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("walk %s: %v", dir, err)
	}
}

func TestFilesArePlain(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	ctx := t.Context()
	if err := s.Put(ctx, "models/gnn/v1.bin", strings.NewReader("weights"), 7, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "models/gnn/v1.json", strings.NewReader("{}"), 2, "application/json"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "models", "gnn", "v1.bin"))
	if err != nil || string(b) != "weights" {
		t.Errorf("file on disk = %q, %v; want %q", b, err, "weights")
	}
	if got, want := s.Location("models/gnn/v1.bin"), filepath.Join(dir, "models", "gnn", "v1.bin"); got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	// Only a non-default type has a sidecar.
	var sidecars []string
	_ = filepath.WalkDir(filepath.Join(dir, objstore.ReservedPrefix), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			sidecars = append(sidecars, filepath.ToSlash(rel))
		}
		return nil
	})
	if diff := cmp.Diff([]string{metaDir + "/models/gnn/v1.json"}, sidecars); diff != "" {
		t.Errorf("sidecars (-want +got):\n%s", diff)
	}
}

func TestFileCopiedInByHand(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "in", "report.csv"), []byte("a,b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir)
	defer s.Close()
	o, err := s.Stat(t.Context(), "in/report.csv")
	if err != nil {
		t.Fatal(err)
	}
	if o.Size != 4 || o.ContentType != objstore.DefaultContentType {
		t.Errorf("Stat = %+v, want Size 4 and the default content type", o)
	}
}

func TestSymlinkOutsideRootIsNotFollowed(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir)
	defer s.Close()
	ctx := t.Context()
	if err := s.Put(ctx, "escape/planted", strings.NewReader("x"), 1, ""); err == nil {
		t.Error("Put through a symlink to outside the root succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "planted")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was written outside the root: %v", err)
	}
	if _, err := s.Get(ctx, "escape/secret"); err == nil {
		t.Error("Get through a symlink to outside the root succeeded")
	}
	objs, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 0 {
		t.Errorf("List followed the symlink: %v", objs)
	}
}

func TestKeyUnderAnObjectFails(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := t.Context()
	if err := s.Put(ctx, "a/b", strings.NewReader("x"), 1, ""); err != nil {
		t.Fatal(err)
	}
	err := s.Put(ctx, "a/b/c", strings.NewReader("y"), 1, "")
	if err == nil || !strings.Contains(err.Error(), "an object has the name of one of its parents") {
		t.Errorf("Put(a/b/c) under the object a/b: err = %v, want the parent-is-an-object error", err)
	}
	err = s.Put(ctx, "a", strings.NewReader("z"), 1, "")
	if err == nil || !strings.Contains(err.Error(), "a directory of other objects has that name") {
		t.Errorf("Put(a) over the directory a/: err = %v, want the directory error", err)
	}
	var buf bytes.Buffer
	rc, err := s.Get(ctx, "a/b")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := buf.ReadFrom(rc); err != nil || buf.String() != "x" {
		t.Errorf("a/b after the failed puts = %q, %v", buf.String(), err)
	}
}

func TestCorruptSidecar(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	if err := s.Put(t.Context(), "x", strings.NewReader("x"), 1, "text/plain"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(metaDir), "x"), []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(t.Context(), "x"); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("Stat with a corrupt sidecar: err = %v, want it reported", err)
	}
}
