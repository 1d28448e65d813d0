package stack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// What a stack keeps in its data directory: the one list Up writes and
// Clean removes.
const (
	kafkaDir    = "kafka"          // the embedded broker's log
	storeFile   = "streamforge.db" // the SQLite store (with its -wal and -shm)
	artifactDir = "artifacts"      // models, metrics, plots
	logDir      = "logs"           // stack.log and anything per step
	lockFile    = ".devstack.lock" // held while a stack runs on the directory
)

// dataEntries are the data directory's entries Clean removes.
var dataEntries = []string{kafkaDir, storeFile, storeFile + "-wal", storeFile + "-shm", artifactDir, logDir}

// ErrInUse is returned by Up and Clean when a stack runs on the data
// directory already.
var ErrInUse = errors.New("a stack runs on this data directory (devstack up, demo or stream): stop it first")

// lockDir takes dir's lock, held until the returned file is closed (or the
// process ends). It returns ErrInUse when another process holds it.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dir, ErrInUse)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return f, nil
}

// Entry is one thing Clean finds in a data directory.
type Entry struct {
	Path  string
	Bytes int64
}

// DataContents lists what Clean would remove from dir, with sizes.
func DataContents(dir string) ([]Entry, error) {
	var out []Entry
	for _, name := range dataEntries {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		var n int64
		err := filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if info, err := d.Info(); err == nil && !d.IsDir() {
				n += info.Size()
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Path: p, Bytes: n})
	}
	return out, nil
}

// Clean removes the stack's Kafka log, store, artifacts and logs from dir,
// leaving anything else there. It returns ErrInUse, and removes nothing,
// while a stack runs on dir.
func Clean(dir string) ([]Entry, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = lock.Close() }()
	entries, err := DataContents(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if err := os.RemoveAll(e.Path); err != nil {
			return nil, fmt.Errorf("remove %s: %w", e.Path, err)
		}
	}
	return entries, nil
}
