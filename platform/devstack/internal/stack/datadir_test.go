package stack

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func fill(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCleanRemovesTheStacksDataOnly: the Kafka log, the store, the
// artifacts and the logs go; anything else in the directory stays.
func TestCleanRemovesTheStacksDataOnly(t *testing.T) {
	dir := t.TempDir()
	fill(t, dir, "kafka/0/data.log", "streamforge.db", "streamforge.db-wal", "artifacts/models/m/model.json",
		"logs/stack.log", "mine/notes.txt")
	removed, err := Clean(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 5 {
		t.Errorf("removed %v, want kafka, the store and its WAL, artifacts and logs", removed)
	}
	for _, gone := range []string{"kafka", "streamforge.db", "streamforge.db-wal", "artifacts", "logs"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there (%v)", gone, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "mine", "notes.txt")); err != nil {
		t.Errorf("a file the stack did not write was removed: %v", err)
	}
}

// TestCleanRefusesWhileAStackRuns: a stack holds its data directory's lock;
// Clean (and a second stack) then refuse and remove nothing.
func TestCleanRefusesWhileAStackRuns(t *testing.T) {
	dir := t.TempDir()
	fill(t, dir, "streamforge.db", "logs/stack.log")
	held, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Clean(dir); !errors.Is(err, ErrInUse) {
		t.Errorf("Clean while locked: %v, want ErrInUse", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "streamforge.db")); err != nil {
		t.Errorf("the store went while a stack ran: %v", err)
	}
	bin := t.TempDir()
	fill(t, bin, Binaries()...)
	if _, err := Up(t.Context(), Options{DataDir: dir, BinDir: bin}); !errors.Is(err, ErrInUse) {
		t.Errorf("a second stack on a data directory in use: %v, want ErrInUse", err)
	}
	_ = held.Close()
	if _, err := Clean(dir); err != nil {
		t.Errorf("Clean after the stack ended: %v", err)
	}
}
