//go:build integration

// Integration tests against a real S3 server (platform/s3/s3.sh runs
// versitygw):
//
//	platform/s3/s3.sh start && eval "$(platform/s3/s3.sh env)"
//	go test -tags integration -run 'Real|Integration' ./objstore/...
//
// They skip unless S3_IT=1; with S3_IT=1 an unreachable server fails them.
package s3

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/minio/minio-go/v7"

	"github.com/streamforge/streamforge/libs/objstore"
	"github.com/streamforge/streamforge/libs/objstore/objstoretest"
)

// itConfig reads MINIO_* from the environment, skipping the test unless
// S3_IT=1.
func itConfig(t *testing.T) objstore.Config {
	t.Helper()
	if v, ok := os.LookupEnv("S3_IT"); !ok || v != "1" {
		t.Skip(`S3_IT is not 1: no S3 server (start one with platform/s3/s3.sh start; eval "$(platform/s3/s3.sh env)")`)
	}
	var cfg objstore.Config
	if err := envconfig.Process("", &cfg); err != nil {
		t.Fatalf("read MINIO_* variables: %v", err)
	}
	if cfg.Endpoint == "" {
		t.Fatal(`S3_IT=1 but MINIO_ENDPOINT is empty (eval "$(platform/s3/s3.sh env)")`)
	}
	return cfg
}

var bucketSeq atomic.Int64

// itStore opens a store on a fresh bucket (MINIO_BUCKET plus a suffix) and
// empties and removes the bucket when the test ends.
func itStore(t *testing.T, cfg objstore.Config) *Store {
	t.Helper()
	cfg.Bucket = fmt.Sprintf("%s-%d-%d", cfg.Bucket, time.Now().UnixMilli()%1_000_000_000, bucketSeq.Add(1))
	s, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open(%s, bucket %s): %v", cfg.Endpoint, cfg.Bucket, err)
	}
	t.Cleanup(func() { dropBucket(t, s) })
	return s
}

func dropBucket(t *testing.T, s *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Errorf("drop bucket %s: list: %v", s.bucket, o.Err)
			return
		}
		if err := s.client.RemoveObject(ctx, s.bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
			t.Errorf("drop bucket %s: remove %s: %v", s.bucket, o.Key, err)
		}
	}
	if err := s.client.RemoveBucket(ctx, s.bucket); err != nil {
		t.Errorf("drop bucket %s: %v", s.bucket, err)
	}
}

func TestRealS3Conformance(t *testing.T) {
	cfg := itConfig(t)
	// One check first, so an unreachable server fails once, not per subtest.
	itStore(t, cfg)
	objstoretest.Run(t, func(t *testing.T) objstore.Store { return itStore(t, cfg) })
}

func TestRealS3OpenWrongCredentials(t *testing.T) {
	cfg := itConfig(t)
	cfg.SecretKey += "-wrong"
	start := time.Now()
	_, err := Open(t.Context(), cfg)
	if err == nil {
		t.Fatal("Open with a wrong secret key succeeded")
	}
	t.Logf("Open with a wrong secret: %v (after %s)", err, time.Since(start).Round(time.Millisecond))
	if !strings.Contains(err.Error(), "MINIO_SECRET_KEY") {
		t.Errorf("error %q does not name MINIO_SECRET_KEY", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Open took %s to report wrong credentials, want a fast failure", time.Since(start))
	}
}

// TestRealS3OpenRace opens one new bucket from several stores at once:
// every Open creates or finds it, none fails on "already owned by you".
func TestRealS3OpenRace(t *testing.T) {
	cfg := itConfig(t)
	cfg.Bucket = fmt.Sprintf("%s-race-%d", cfg.Bucket, time.Now().UnixMilli()%1_000_000_000)
	var wg sync.WaitGroup
	stores := make([]*Store, 8)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), cfg) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
	if stores[0] == nil {
		return
	}
	t.Cleanup(func() { dropBucket(t, stores[0]) })
	if err := stores[0].Put(t.Context(), "k", strings.NewReader("v"), 1, ""); err != nil {
		t.Fatal(err)
	}
	for _, s := range stores[1:] {
		if s == nil {
			continue
		}
		if _, err := s.Stat(t.Context(), "k"); err != nil {
			t.Errorf("Stat through another store of the bucket: %v", err)
		}
	}
}

// TestRealS3ForeignObjects: objects written by other S3 clients (a folder
// marker, a key the port would reject) do not break List or Get.
func TestRealS3ForeignObjects(t *testing.T) {
	s := itStore(t, itConfig(t))
	ctx := t.Context()
	for _, k := range []string{"in/folder/", "in/ok.txt"} {
		if _, err := s.client.PutObject(ctx, s.bucket, k, strings.NewReader(""), 0, minio.PutObjectOptions{}); err != nil {
			t.Fatalf("raw put %q: %v", k, err)
		}
	}
	objs, err := s.List(ctx, "in/")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	if strings.Join(keys, ",") != "in/ok.txt" {
		t.Errorf("List(in/) = %v, want only in/ok.txt (folder markers are not objects here)", keys)
	}
	if _, err := s.Get(ctx, "in/missing"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get(missing) err = %v, want ErrNotFound", err)
	}
}
