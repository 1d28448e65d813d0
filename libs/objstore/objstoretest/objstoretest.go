// Package objstoretest is the conformance suite of objstore.Store. Every
// adapter's tests run it, so that all adapters store, order, reject and
// report the same way:
//
//	func TestConformance(t *testing.T) {
//		objstoretest.Run(t, func(t *testing.T) objstore.Store { return openTestStore(t) })
//	}
//
// The suite never puts one key that is a prefix directory of another ("a/b"
// and "a/b/c"): a file system cannot hold both, S3 can.
package objstoretest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/objstore"
)

// LargeSize is the size of the suite's large objects: above minio-go's
// 16 MiB single-PUT limit, so S3 adapters upload them in parts.
const LargeSize = 20 << 20

// Run runs the suite. Each subtest calls open for a fresh, empty store and
// closes it when the subtest ends, failing the subtest if Close fails.
func Run(t *testing.T, open func(t *testing.T) objstore.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s objstore.Store)
	}{
		{"RoundTrip/Binary", testRoundTripBinary},
		{"RoundTrip/Empty", testRoundTripEmpty},
		{"RoundTrip/Large", testRoundTripLarge},
		{"RoundTrip/LargeUnknownSize", testRoundTripLargeUnknown},
		{"Put/Overwrite", testOverwrite},
		{"Put/ShortReader", testShortReader},
		{"Stat", testStat},
		{"List/PrefixAndOrder", testList},
		{"Delete", testDelete},
		{"Delete/FreesPrefix", testDeleteFreesPrefix},
		{"NotFound", testNotFound},
		{"BadKeys", testBadKeys},
		{"ConcurrentPuts", testConcurrentPuts},
		{"Context/Cancelled", testCancelled},
		{"Context/CancelDuringPut", testCancelDuringPut},
		{"Context/CancelDuringGet", testCancelDuringGet},
		{"Location", testLocation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

// Data returns n pseudo-random bytes, the same for the same seed.
func Data(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	_, _ = r.Read(b) // ChaCha8.Read never fails
	return b
}

// onlyReader hides everything but Read (io.ReaderAt, io.Seeker, WriterTo),
// as a network stream would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func put(t *testing.T, s objstore.Store, key string, data []byte, contentType string) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), contentType); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t *testing.T, s objstore.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	b, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	return b
}

func keys(objs []objstore.Object) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

func testRoundTripBinary(t *testing.T, s objstore.Store) {
	data := make([]byte, 0, 256+100_000)
	for i := range 256 {
		data = append(data, byte(i))
	}
	data = append(data, Data(1, 100_000)...)
	put(t, s, "bin/all-bytes.bin", data, "application/x-test")
	if got := get(t, s, "bin/all-bytes.bin"); !bytes.Equal(got, data) {
		t.Fatalf("Get returned %d bytes that differ from the %d put", len(got), len(data))
	}
	// A key with spaces, unicode and characters URLs escape.
	odd := "odd/ключ with spaces+plus&amp=eq%25?.json"
	put(t, s, odd, []byte(`{"ok":true}`), "application/json")
	if got := string(get(t, s, odd)); got != `{"ok":true}` {
		t.Errorf("Get(%q) = %q, want %q", odd, got, `{"ok":true}`)
	}
	objs, err := s.List(t.Context(), "odd/")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{odd}, keys(objs)); diff != "" {
		t.Errorf("List(odd/) keys (-want +got):\n%s", diff)
	}
}

func testRoundTripEmpty(t *testing.T, s objstore.Store) {
	put(t, s, "empty/known", nil, "")
	if err := s.Put(t.Context(), "empty/unknown", onlyReader{bytes.NewReader(nil)}, -1, ""); err != nil {
		t.Fatalf("Put(size -1, empty): %v", err)
	}
	for _, k := range []string{"empty/known", "empty/unknown"} {
		if got := get(t, s, k); len(got) != 0 {
			t.Errorf("Get(%q) = %d bytes, want 0", k, len(got))
		}
		o, err := s.Stat(t.Context(), k)
		if err != nil {
			t.Fatalf("Stat(%q): %v", k, err)
		}
		if o.Size != 0 {
			t.Errorf("Stat(%q).Size = %d, want 0", k, o.Size)
		}
	}
}

func testRoundTripLarge(t *testing.T, s objstore.Store) {
	data := Data(2, LargeSize)
	start := time.Now()
	put(t, s, "large/known.bin", data, "")
	putTook := time.Since(start)
	start = time.Now()
	got := get(t, s, "large/known.bin")
	getTook := time.Since(start)
	if sha256.Sum256(got) != sha256.Sum256(data) || len(got) != len(data) {
		t.Fatalf("Get returned %d bytes that differ from the %d put", len(got), len(data))
	}
	t.Logf("20 MiB, known size: put %s (%.0f MiB/s), get %s (%.0f MiB/s)",
		putTook.Round(time.Millisecond), 20/putTook.Seconds(), getTook.Round(time.Millisecond), 20/getTook.Seconds())
}

func testRoundTripLargeUnknown(t *testing.T, s objstore.Store) {
	data := Data(3, LargeSize)
	start := time.Now()
	if err := s.Put(t.Context(), "large/unknown.bin", onlyReader{bytes.NewReader(data)}, -1, ""); err != nil {
		t.Fatalf("Put(size -1): %v", err)
	}
	putTook := time.Since(start)
	got := get(t, s, "large/unknown.bin")
	if sha256.Sum256(got) != sha256.Sum256(data) || len(got) != len(data) {
		t.Fatalf("Get returned %d bytes that differ from the %d put", len(got), len(data))
	}
	o, err := s.Stat(t.Context(), "large/unknown.bin")
	if err != nil {
		t.Fatal(err)
	}
	if o.Size != LargeSize {
		t.Errorf("Stat.Size = %d, want %d", o.Size, LargeSize)
	}
	t.Logf("20 MiB, unknown size (streamed): put %s (%.0f MiB/s)", putTook.Round(time.Millisecond), 20/putTook.Seconds())
}

func testOverwrite(t *testing.T, s objstore.Store) {
	put(t, s, "over/x", []byte("version one, the longer one"), "text/plain")
	put(t, s, "over/x", []byte("v2"), "")
	if got := string(get(t, s, "over/x")); got != "v2" {
		t.Errorf("Get after overwrite = %q, want %q", got, "v2")
	}
	o, err := s.Stat(t.Context(), "over/x")
	if err != nil {
		t.Fatal(err)
	}
	// The second Put's (default) type, not the first one's.
	want := objstore.Object{Key: "over/x", Size: 2, ContentType: objstore.DefaultContentType}
	o.Modified = time.Time{}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("Stat after overwrite (-want +got):\n%s", diff)
	}
	put(t, s, "over/x", []byte("v3"), "text/csv")
	if o, err := s.Stat(t.Context(), "over/x"); err != nil || o.ContentType != "text/csv" {
		t.Errorf("Stat after third put = %+v, %v; want ContentType text/csv", o, err)
	}
}

func testShortReader(t *testing.T, s objstore.Store) {
	put(t, s, "short/kept", []byte("old"), "")
	for _, key := range []string{"short/new", "short/kept"} {
		err := s.Put(t.Context(), key, onlyReader{strings.NewReader("only ten b")}, 100, "")
		if err == nil {
			t.Errorf("Put(%q) of 10 bytes with size 100 succeeded, want an error", key)
		}
	}
	if _, err := s.Stat(t.Context(), "short/new"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Stat after a failed Put: err = %v, want ErrNotFound", err)
	}
	if got := string(get(t, s, "short/kept")); got != "old" {
		t.Errorf("object after a failed overwrite = %q, want %q", got, "old")
	}
}

func testStat(t *testing.T, s objstore.Store) {
	before := time.Now().Add(-2 * time.Second).Truncate(time.Second)
	put(t, s, "stat/typed.json", []byte(`{"a":1}`), "application/json")
	put(t, s, "stat/untyped.json", []byte(`{"a":12}`), "")
	after := time.Now().Add(2 * time.Second)
	tests := []struct {
		key  string
		want objstore.Object
	}{
		{"stat/typed.json", objstore.Object{Key: "stat/typed.json", Size: 7, ContentType: "application/json"}},
		{"stat/untyped.json", objstore.Object{Key: "stat/untyped.json", Size: 8, ContentType: objstore.DefaultContentType}},
	}
	for _, tt := range tests {
		got, err := s.Stat(t.Context(), tt.key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", tt.key, err)
		}
		if got.Modified.Before(before) || got.Modified.After(after) {
			t.Errorf("Stat(%q).Modified = %s, want between %s and %s", tt.key, got.Modified, before, after)
		}
		got.Modified = time.Time{}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Stat(%q) (-want +got):\n%s", tt.key, diff)
		}
	}
}

func testList(t *testing.T, s objstore.Store) {
	// Put out of order; "a-b" sorts before "a/..." ('-' < '/').
	all := []string{"z/y", "a/c/d/e", "b", "a/bc", "a/b/2", "a-b", "a/b/1"}
	for i, k := range all {
		put(t, s, k, bytes.Repeat([]byte{'x'}, i+1), "")
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a-b", "a/b/1", "a/b/2", "a/bc", "a/c/d/e", "b", "z/y"}},
		{"a", []string{"a-b", "a/b/1", "a/b/2", "a/bc", "a/c/d/e"}},
		{"a/", []string{"a/b/1", "a/b/2", "a/bc", "a/c/d/e"}},
		{"a/b", []string{"a/b/1", "a/b/2", "a/bc"}},
		{"a/b/", []string{"a/b/1", "a/b/2"}},
		{"a/c/d/e", []string{"a/c/d/e"}},
		{"a/c/d/e/", []string{}},
		{"b/", []string{}},
		{"nothing", []string{}},
		{"nothing/deeper/", []string{}},
	}
	for _, tt := range tests {
		objs, err := s.List(t.Context(), tt.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", tt.prefix, err)
		}
		if diff := cmp.Diff(tt.want, keys(objs)); diff != "" {
			t.Errorf("List(%q) keys (-want +got):\n%s", tt.prefix, diff)
		}
	}
	objs, err := s.List(t.Context(), "a/b/")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		var i int
		for i = range all {
			if all[i] == o.Key {
				break
			}
		}
		if o.Size != int64(i+1) {
			t.Errorf("List: %s has Size %d, want %d", o.Key, o.Size, i+1)
		}
		if o.Modified.IsZero() {
			t.Errorf("List: %s has no Modified time", o.Key)
		}
	}
	for _, bad := range []string{"/a", "../", "a/../b", `a\b`, "a//"} {
		if _, err := s.List(t.Context(), bad); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("List(%q): err = %v, want ErrInvalidKey", bad, err)
		}
	}
}

func testDelete(t *testing.T, s objstore.Store) {
	put(t, s, "del/x", []byte("x"), "text/plain")
	put(t, s, "del/y", []byte("y"), "")
	if err := s.Delete(t.Context(), "del/x"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(t.Context(), "del/x"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(t.Context(), "del/x"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Stat after Delete: err = %v, want ErrNotFound", err)
	}
	objs, err := s.List(t.Context(), "del/")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"del/y"}, keys(objs)); diff != "" {
		t.Errorf("List after Delete (-want +got):\n%s", diff)
	}
	for _, k := range []string{"del/x", "never/was", "del"} {
		if err := s.Delete(t.Context(), k); err != nil {
			t.Errorf("Delete(%q) of a missing object: %v, want nil", k, err)
		}
	}
	if got := string(get(t, s, "del/y")); got != "y" {
		t.Errorf("del/y after deleting its prefix %q = %q, want %q", "del", got, "y")
	}
	// Put again after delete: the new object, with the new type.
	put(t, s, "del/x", []byte("again"), "")
	if o, err := s.Stat(t.Context(), "del/x"); err != nil || o.ContentType != objstore.DefaultContentType {
		t.Errorf("Stat after re-put = %+v, %v; want ContentType %s", o, err, objstore.DefaultContentType)
	}
}

// testDeleteFreesPrefix: once "p/q/r" is deleted, "p/q" and then "p" can
// be objects (on disk, Delete must remove the directories it emptied).
func testDeleteFreesPrefix(t *testing.T, s objstore.Store) {
	put(t, s, "p/q/r", []byte("deep"), "text/plain")
	if err := s.Delete(t.Context(), "p/q/r"); err != nil {
		t.Fatal(err)
	}
	put(t, s, "p/q", []byte("now a leaf"), "")
	if err := s.Delete(t.Context(), "p/q"); err != nil {
		t.Fatal(err)
	}
	put(t, s, "p", []byte("and now its parent"), "")
	objs, err := s.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"p"}, keys(objs)); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if got := string(get(t, s, "p")); got != "and now its parent" {
		t.Errorf("Get(p) = %q", got)
	}
}

func testNotFound(t *testing.T, s objstore.Store) {
	put(t, s, "dir/x", []byte("x"), "")
	for _, k := range []string{"missing", "dir", "dir/x/y", "dir/y"} {
		if rc, err := s.Get(t.Context(), k); !errors.Is(err, objstore.ErrNotFound) {
			if err == nil {
				_ = rc.Close()
			}
			t.Errorf("Get(%q): err = %v, want ErrNotFound", k, err)
		}
		if _, err := s.Stat(t.Context(), k); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("Stat(%q): err = %v, want ErrNotFound", k, err)
		}
	}
}

func testBadKeys(t *testing.T, s objstore.Store) {
	bad := []string{
		"", "/abs", "..", "../up", "a/../b", "a/..", ".", "./a", "a/./b", `a\b`, `..\up`,
		"a//b", "a/", "dir/", ".objstore/x", "a/.objstore-tmp-1", "nul\x00byte", "line\nbreak",
		"bad-utf8-\xff", longKey(5, 204) + "k", "a/" + strings.Repeat("s", objstore.MaxSegmentLen+1),
	}
	ctx := t.Context()
	for _, k := range bad {
		if err := s.Put(ctx, k, strings.NewReader("x"), 1, ""); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Put(%q): err = %v, want ErrInvalidKey", k, err)
		}
		if _, err := s.Get(ctx, k); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Get(%q): err = %v, want ErrInvalidKey", k, err)
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Stat(%q): err = %v, want ErrInvalidKey", k, err)
		}
		if err := s.Delete(ctx, k); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Delete(%q): err = %v, want ErrInvalidKey", k, err)
		}
	}
	objs, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 0 {
		t.Errorf("bad keys left objects behind: %v", keys(objs))
	}
	// Keys at the edges of the rules are fine.
	for _, k := range []string{"a..b", "...", "a/.hidden", "a/b.", longKey(5, 204)} {
		put(t, s, k, []byte("ok"), "")
	}
}

// longKey returns a key of n segments of segLen bytes: 5 and 204 give
// objstore.MaxKeyLen.
func longKey(n, segLen int) string {
	segs := make([]string, n)
	for i := range segs {
		segs[i] = strings.Repeat(string(rune('k'+i)), segLen)
	}
	return strings.Join(segs, "/")
}

func testConcurrentPuts(t *testing.T, s objstore.Store) {
	const writers, perWriter = 16, 4
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				key := fmt.Sprintf("conc/w%02d/%d", w, i)
				data := Data(uint64(w*100+i), 64<<10+w*i)
				if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), ""); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Put: %v", err)
	}
	objs, err := s.List(t.Context(), "conc/")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != writers*perWriter {
		t.Fatalf("List after concurrent puts: %d objects, want %d", len(objs), writers*perWriter)
	}
	for w := range writers {
		for i := range perWriter {
			key := fmt.Sprintf("conc/w%02d/%d", w, i)
			if got, want := get(t, s, key), Data(uint64(w*100+i), 64<<10+w*i); !bytes.Equal(got, want) {
				t.Errorf("Get(%q): %d bytes that differ from the %d put", key, len(got), len(want))
			}
		}
	}
}

func testCancelled(t *testing.T, s objstore.Store) {
	put(t, s, "ctx/x", []byte("x"), "")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", op, err)
		}
	}
	check("Put", s.Put(ctx, "ctx/y", strings.NewReader("y"), 1, ""))
	_, err := s.Get(ctx, "ctx/x")
	check("Get", err)
	_, err = s.Stat(ctx, "ctx/x")
	check("Stat", err)
	_, err = s.List(ctx, "ctx/")
	check("List", err)
	check("Delete", s.Delete(ctx, "ctx/x"))
	if got := string(get(t, s, "ctx/x")); got != "x" {
		t.Errorf("ctx/x after a cancelled Delete = %q, want %q", got, "x")
	}
	if _, err := s.Stat(t.Context(), "ctx/y"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Stat after a cancelled Put: err = %v, want ErrNotFound", err)
	}
}

// cancellingReader yields data and cancels after limit bytes, then keeps
// yielding, as a source that does not know about the context would.
type cancellingReader struct {
	data   []byte
	off    int
	limit  int
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if c.off >= c.limit {
		c.cancel()
	}
	if c.off >= len(c.data) {
		return 0, io.EOF
	}
	n := copy(p, c.data[c.off:])
	c.off += n
	return n, nil
}

func testCancelDuringPut(t *testing.T, s objstore.Store) {
	put(t, s, "ctx/kept", []byte("old"), "")
	data := Data(4, LargeSize)
	for _, tt := range []struct {
		key  string
		size int64
	}{
		{"ctx/kept", int64(len(data))}, {"ctx/new", -1},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		r := &cancellingReader{data: data, limit: 3 << 20, cancel: cancel}
		err := s.Put(ctx, tt.key, onlyReader{r}, tt.size, "")
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put(%q, size %d) cancelled after 3 MiB: err = %v, want context.Canceled", tt.key, tt.size, err)
		}
	}
	if got := string(get(t, s, "ctx/kept")); got != "old" {
		t.Errorf("object after a cancelled overwrite: %d bytes, want %q", len(got), "old")
	}
	if _, err := s.Stat(t.Context(), "ctx/new"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Stat after a cancelled Put: err = %v, want ErrNotFound", err)
	}
	objs, err := s.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ctx/kept"}, keys(objs)); diff != "" {
		t.Errorf("List after cancelled puts (-want +got):\n%s", diff)
	}
}

func testCancelDuringGet(t *testing.T, s objstore.Store) {
	data := Data(5, LargeSize)
	put(t, s, "ctx/big", data, "")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rc, err := s.Get(ctx, "ctx/big")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, make([]byte, 1<<20)); err != nil {
		t.Fatalf("read the first MiB: %v", err)
	}
	cancel()
	n, err := io.Copy(io.Discard, rc)
	if err == nil {
		t.Errorf("reading after cancel: got the remaining %d bytes and no error, want an error", n)
	}
}

func testLocation(t *testing.T, s objstore.Store) {
	loc := s.Location("models/gnn/v1/weights.bin")
	if !strings.HasSuffix(loc, "models/gnn/v1/weights.bin") || len(loc) <= len("models/gnn/v1/weights.bin") {
		t.Errorf("Location = %q, want a place ending in the key", loc)
	}
}
