// Package local implements objstore.Store on a directory tree: the object
// under key "a/b/c.bin" is the plain file <dir>/a/b/c.bin, so artifacts can
// be read with any tool.
//
// Writes are atomic: the data goes to a temporary file in the target's
// directory, is fsynced and renamed over the target, and the directory is
// fsynced. Readers see the old object or the new one, never a part.
//
// Content types other than objstore.DefaultContentType are kept in a small
// JSON sidecar under <dir>/.objstore/meta/<key> (a parallel tree, so data
// directories hold only data); an object without a sidecar, such as a file
// copied in by hand, is DefaultContentType. Types are not guessed from file
// extensions: the guess would depend on the machine's MIME tables.
//
// All access goes through os.Root, so no key, symbolic link or ".." can
// reach outside the directory. Symbolic links inside it are not listed.
//
// A file system cannot hold a file and a directory under one name, so unlike
// S3 the store cannot hold both "a/b" and "a/b/c": the second Put fails.
// Delete removes directories it leaves empty, so after deleting "a/b/c",
// "a/b" can be written.
package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/streamforge/streamforge/libs/objstore"
)

// metaDir is the sidecar tree, under the reserved prefix so no key reaches it.
const metaDir = objstore.ReservedPrefix + "/meta"

// tmpPrefix starts the names of files being written.
const tmpPrefix = objstore.ReservedPrefix + "-tmp-"

// Store is a directory of objects. It is safe for concurrent use.
type Store struct {
	root *os.Root
	dir  string // absolute, for Location
	// locks serialise the two renames of a Put (data and sidecar) with
	// Delete and Stat of the same key, so that in one process a key's
	// content type always belongs to its data. Striped by key hash.
	locks [64]sync.Mutex
	seed  maphash.Seed
}

var _ objstore.Store = (*Store)(nil)

// Open returns the store in dir, creating the directory when missing.
func Open(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("artifact dir %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create artifact dir: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("open artifact dir: %w", err)
	}
	return &Store{root: root, dir: abs, seed: maphash.MakeSeed()}, nil
}

// Dir returns the store's directory, absolute.
func (s *Store) Dir() string { return s.dir }

// Location returns the object's file path.
func (s *Store) Location(key string) string {
	return filepath.Join(s.dir, filepath.FromSlash(key))
}

// Close releases the directory handle.
func (s *Store) Close() error { return s.root.Close() }

func (s *Store) lock(key string) *sync.Mutex {
	return &s.locks[maphash.String(s.seed, key)%uint64(len(s.locks))]
}

// Put writes the object atomically. It fails, leaving nothing behind, when
// r yields fewer than size bytes, when ctx ends, or when key names a
// directory (a prefix of other objects).
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := objstore.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if size < -1 {
		return fmt.Errorf("put %s: size %d (want >= 0, or -1 for unknown)", key, size)
	}
	if fi, err := s.root.Lstat(key); err == nil && fi.IsDir() {
		return fmt.Errorf("put %s: a directory of other objects has that name (the local store cannot hold both %q and %q)", key, key, key+"/...")
	}

	tmp, err := s.writeTemp(path.Dir(key), func(f *os.File) error {
		src := io.Reader(ctxReader{ctx: ctx, r: r})
		if size >= 0 {
			src = io.LimitReader(src, size)
		}
		n, err := io.Copy(f, src)
		if err != nil {
			return err
		}
		if size >= 0 && n < size {
			return fmt.Errorf("reader ended after %d of %d bytes: %w", n, size, io.ErrUnexpectedEOF)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = s.root.Remove(tmp) // already failing; the temp file is all there is to undo
		}
	}()

	// The sidecar: written (or removed) before the data is renamed, under
	// the key's lock, so Stat never pairs new data with an old type.
	metaKey := metaDir + "/" + key
	var metaTmp string
	if contentType != "" && contentType != objstore.DefaultContentType {
		b, err := json.Marshal(sidecar{ContentType: contentType})
		if err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		metaTmp, err = s.writeTemp(path.Dir(metaKey), func(f *os.File) error {
			_, err := f.Write(b)
			return err
		})
		if err != nil {
			return fmt.Errorf("put %s: content type: %w", key, err)
		}
		defer func() {
			if !committed {
				_ = s.root.Remove(metaTmp)
			}
		}()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}

	mu := s.lock(key)
	mu.Lock()
	defer mu.Unlock()
	if metaTmp != "" {
		if err := s.root.Rename(metaTmp, metaKey); err != nil {
			return fmt.Errorf("put %s: content type: %w", key, err)
		}
	} else if err := s.root.Remove(metaKey); err != nil && !notExist(err) {
		return fmt.Errorf("put %s: remove old content type: %w", key, err)
	}
	if err := s.root.Rename(tmp, key); err != nil {
		if fi, serr := s.root.Lstat(key); serr == nil && fi.IsDir() {
			return fmt.Errorf("put %s: a directory of other objects has that name (the local store cannot hold both %q and %q)", key, key, key+"/...")
		}
		return fmt.Errorf("put %s: %w", key, err)
	}
	committed = true
	// The rename is durable once its directory is.
	if err := s.syncDir(path.Dir(key)); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if metaTmp != "" {
		if err := s.syncDir(path.Dir(metaKey)); err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
	}
	return nil
}

// writeTemp creates a temporary file in dir (and dir when missing), lets
// fill write it, fsyncs and closes it, and returns its name. On error
// nothing is left behind.
func (s *Store) writeTemp(dir string, fill func(f *os.File) error) (string, error) {
	var f *os.File
	var name string
	// A concurrent Delete may remove dir (it prunes empty directories)
	// between MkdirAll and the create: make it again.
	for attempt := 0; ; attempt++ {
		if dir != "." {
			if err := s.root.MkdirAll(dir, 0o755); err != nil {
				if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
					return "", fmt.Errorf("make directory %s: an object has the name of one of its parents: %w", dir, err)
				}
				return "", err
			}
		}
		name = path.Join(dir, tmpPrefix+strconv.FormatUint(rand.Uint64(), 36))
		var err error
		f, err = s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if (notExist(err) || errors.Is(err, fs.ErrExist)) && attempt < 5 {
			continue
		}
		return "", err
	}
	err := fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = s.root.Remove(name) // the error being returned says what went wrong
		return "", err
	}
	return name, nil
}

func (s *Store) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// Get opens the object's file. Reads fail once ctx ends.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := objstore.ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	f, err := s.root.Open(key)
	if err != nil {
		if notExist(err) {
			return nil, fmt.Errorf("get %s: %w", key, objstore.ErrNotFound)
		}
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		_ = f.Close() // read-only
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", key, err)
		}
		return nil, fmt.Errorf("get %s: %w", key, objstore.ErrNotFound)
	}
	return &ctxFile{ctxReader: ctxReader{ctx: ctx, r: f}, f: f}, nil
}

// Stat describes the object from its file and sidecar.
func (s *Store) Stat(ctx context.Context, key string) (objstore.Object, error) {
	if err := objstore.ValidateKey(key); err != nil {
		return objstore.Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return objstore.Object{}, fmt.Errorf("stat %s: %w", key, err)
	}
	mu := s.lock(key)
	mu.Lock()
	defer mu.Unlock()
	fi, err := s.root.Stat(key)
	if err != nil {
		if notExist(err) {
			return objstore.Object{}, fmt.Errorf("stat %s: %w", key, objstore.ErrNotFound)
		}
		return objstore.Object{}, fmt.Errorf("stat %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		return objstore.Object{}, fmt.Errorf("stat %s: %w", key, objstore.ErrNotFound)
	}
	ct, err := s.contentType(key)
	if err != nil {
		return objstore.Object{}, fmt.Errorf("stat %s: %w", key, err)
	}
	return objstore.Object{Key: key, Size: fi.Size(), Modified: fi.ModTime().UTC(), ContentType: ct}, nil
}

type sidecar struct {
	ContentType string `json:"content_type"`
}

func (s *Store) contentType(key string) (string, error) {
	b, err := s.root.ReadFile(metaDir + "/" + key)
	if notExist(err) {
		return objstore.DefaultContentType, nil
	}
	if err != nil {
		return "", fmt.Errorf("read content type: %w", err)
	}
	var m sidecar
	if err := json.Unmarshal(b, &m); err != nil || m.ContentType == "" {
		return "", fmt.Errorf("content type sidecar %s is corrupt", s.Location(metaDir+"/"+key))
	}
	return m.ContentType, nil
}

// List walks the directory under prefix. Files and directories whose names
// start with objstore.ReservedPrefix (temporary files, sidecars) and
// anything that is not a regular file are left out.
func (s *Store) List(ctx context.Context, prefix string) ([]objstore.Object, error) {
	if err := objstore.ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	// Only the directory holding the prefix's last segment can hold matches.
	start := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = prefix[:i]
	}
	var out []objstore.Object
	err := fs.WalkDir(s.root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && notExist(err) {
				return fs.SkipAll
			}
			if notExist(err) {
				return nil // removed while we walked
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p != "." && strings.HasPrefix(d.Name(), objstore.ReservedPrefix) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			// Skip subtrees that cannot match: "a/x" when the prefix is "a/b".
			if p != "." && p != start && !strings.HasPrefix(p+"/", prefix) && !strings.HasPrefix(prefix, p+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(p, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if notExist(err) {
				return nil
			}
			return err
		}
		out = append(out, objstore.Object{Key: p, Size: fi.Size(), Modified: fi.ModTime().UTC()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	// WalkDir orders each directory by name, which is not key order
	// across levels ("a-b" sorts before "a/b").
	slices.SortFunc(out, func(a, b objstore.Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete removes the object and its sidecar, then the directories that
// leaves empty. A missing object, or a key naming a directory, is not an
// error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := objstore.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	mu := s.lock(key)
	mu.Lock()
	defer mu.Unlock()
	fi, err := s.root.Lstat(key)
	switch {
	case notExist(err):
		return nil
	case err != nil:
		return fmt.Errorf("delete %s: %w", key, err)
	case fi.IsDir():
		return nil // a prefix of other objects, not an object
	}
	if err := s.root.Remove(key); err != nil && !notExist(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if err := s.root.Remove(metaDir + "/" + key); err != nil && !notExist(err) {
		return fmt.Errorf("delete %s: content type: %w", key, err)
	}
	s.prune(path.Dir(key))
	s.prune(path.Dir(metaDir + "/" + key))
	return nil
}

// prune removes dir and its parents while they are empty. Failing to is
// harmless (another object is there, or a Put is filling it).
func (s *Store) prune(dir string) {
	for dir != "." && dir != metaDir && dir != objstore.ReservedPrefix {
		if s.root.Remove(dir) != nil {
			return
		}
		dir = path.Dir(dir)
	}
}

// notExist reports a missing file, including a path through a file
// ("a/b/c" when "a/b" is a file).
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// ctxReader fails reads once ctx ends, so long copies stop promptly.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type ctxFile struct {
	ctxReader
	f *os.File
}

func (c *ctxFile) Close() error { return c.f.Close() }
