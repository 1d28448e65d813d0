// Package s3 implements objstore.Store on S3, MinIO and S3-compatible
// servers with github.com/minio/minio-go/v7. Each object is one S3 object
// under the same key in one bucket; retries of failed requests are
// minio-go's (up to 10, exponential backoff).
package s3

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/streamforge/streamforge/libs/objstore"
)

// DefaultPartSize is the multipart part size of a Put of unknown size: the
// buffer such a Put holds, and 1/10,000 of the largest object it can write
// (S3 allows 10,000 parts). minio-go's own default for unknown sizes is
// about 537 MiB per part, allocated for every such Put.
const DefaultPartSize = 16 << 20

// minPartSize is S3's smallest part but the last.
const minPartSize = 5 << 20

// openRetries bounds the start-up check's attempts, so an unreachable
// endpoint fails in about a second instead of after minio-go's ten retries.
const openRetries = 3

// Store is a bucket of objects. It is safe for concurrent use.
type Store struct {
	client   *minio.Client
	bucket   string
	endpoint string
	partSize uint64
}

var _ objstore.Store = (*Store)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	partSize  uint64
	transport http.RoundTripper
}

// WithPartSize sets the part size of Puts of unknown size (default
// DefaultPartSize, at least 5 MiB).
func WithPartSize(n uint64) Option { return func(o *options) { o.partSize = n } }

// WithTransport sends requests through rt instead of minio-go's default
// transport (with MINIO_CA_FILE applied); MINIO_CA_FILE is then ignored.
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.transport = rt } }

// Open connects to cfg.Endpoint and makes sure cfg.Bucket exists, creating
// it when missing. Within cfg.OpenTimeout it fails with an error naming the
// variable to fix when the endpoint cannot be reached, the credentials are
// rejected, or the bucket belongs to someone else.
func Open(ctx context.Context, cfg objstore.Config, opts ...Option) (*Store, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("MINIO_ENDPOINT: is empty (the s3 backend needs it)")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{partSize: DefaultPartSize}
	for _, opt := range opts {
		opt(&o)
	}
	if o.partSize < minPartSize {
		return nil, fmt.Errorf("s3 part size %d is below S3's minimum of 5 MiB", o.partSize)
	}
	rt := o.transport
	if rt == nil {
		tr, err := transport(cfg)
		if err != nil {
			return nil, err
		}
		rt = tr
	}
	newClient := func(retries int) (*minio.Client, error) {
		c, err := minio.New(cfg.Endpoint, &minio.Options{
			Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
			Secure:     cfg.UseSSL,
			Region:     cfg.Region,
			Transport:  rt,
			MaxRetries: retries,
		})
		if err != nil {
			return nil, fmt.Errorf("MINIO_ENDPOINT: %w", err)
		}
		return c, nil
	}
	client, err := newClient(0) // 0: minio-go's default
	if err != nil {
		return nil, err
	}
	probe, err := newClient(openRetries)
	if err != nil {
		return nil, err
	}
	s := &Store{client: client, bucket: cfg.Bucket, endpoint: cfg.Endpoint, partSize: o.partSize}
	octx, cancel := context.WithTimeout(ctx, cfg.OpenTimeout)
	defer cancel()
	if err := ensureBucket(octx, probe, cfg); err != nil {
		if ctx.Err() == nil && octx.Err() != nil {
			return nil, fmt.Errorf("s3 endpoint %s (MINIO_ENDPOINT) did not answer within %s (MINIO_OPEN_TIMEOUT): %w", cfg.Endpoint, cfg.OpenTimeout, err)
		}
		return nil, err
	}
	return s, nil
}

func transport(cfg objstore.Config) (*http.Transport, error) {
	tr, err := minio.DefaultTransport(cfg.UseSSL)
	if err != nil {
		return nil, fmt.Errorf("s3 transport: %w", err)
	}
	if cfg.CAFile == "" {
		return tr, nil
	}
	pem, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("MINIO_CA_FILE: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("MINIO_CA_FILE: %s holds no PEM certificate", cfg.CAFile)
	}
	tr.TLSClientConfig.RootCAs = pool
	return tr, nil
}

// ensureBucket creates the bucket when it is missing. Two processes may
// race to create it: the loser's "already owned by you" is success.
func ensureBucket(ctx context.Context, c *minio.Client, cfg objstore.Config) error {
	exists, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return openError(cfg, "check bucket", err)
	}
	if exists {
		return nil
	}
	err = c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
	switch code(err) {
	case "":
		if err != nil {
			return openError(cfg, "create bucket", err)
		}
		return nil
	case minio.BucketAlreadyOwnedByYou:
		return nil
	case minio.BucketAlreadyExists:
		// Some servers say this to the owner too: it is ours if we can see it.
		if ok, herr := c.BucketExists(ctx, cfg.Bucket); herr == nil && ok {
			return nil
		}
		return fmt.Errorf("MINIO_BUCKET: bucket %q on %s exists and belongs to another account: %w", cfg.Bucket, cfg.Endpoint, err)
	default:
		return openError(cfg, "create bucket", err)
	}
}

// openError turns a failed start-up request into a message that says which
// setting to look at.
func openError(cfg objstore.Config, what string, err error) error {
	switch code(err) {
	case "":
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("s3 %s %s on %s: %w", what, cfg.Bucket, cfg.Endpoint, err)
		}
		return fmt.Errorf("s3 endpoint %s (MINIO_ENDPOINT, MINIO_USE_SSL=%t) unreachable: %w", cfg.Endpoint, cfg.UseSSL, err)
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "AuthorizationHeaderMalformed":
		return fmt.Errorf("MINIO_ACCESS_KEY/MINIO_SECRET_KEY: %s rejected the credentials: %w", cfg.Endpoint, err)
	case "AccessDenied":
		// A HEAD answer has no body, so S3 cannot say whether the keys are
		// wrong or lack rights on the bucket.
		return fmt.Errorf("MINIO_ACCESS_KEY/MINIO_SECRET_KEY or MINIO_BUCKET: %s denied %s %q (wrong keys, or no rights on that bucket): %w", cfg.Endpoint, what, cfg.Bucket, err)
	default:
		return fmt.Errorf("s3 %s %s on %s: %w", what, cfg.Bucket, cfg.Endpoint, err)
	}
}

// code returns the S3 error code of err, "" when it is not an S3 error.
func code(err error) string {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		return er.Code
	}
	return ""
}

// wrap adds the operation and key to err, maps "no such key" to
// objstore.ErrNotFound, and keeps ctx's error visible to errors.Is.
func wrap(ctx context.Context, op, key string, err error) error {
	if c := code(err); c == minio.NoSuchKey {
		return fmt.Errorf("%s %s: %w", op, key, objstore.ErrNotFound)
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%s %s: %w (%w)", op, key, cerr, err)
	}
	return fmt.Errorf("%s %s: %w", op, key, err)
}

// Bucket returns the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// Location returns "s3://bucket/key".
func (s *Store) Location(key string) string { return "s3://" + s.bucket + "/" + key }

// Close releases nothing: the HTTP client's idle connections time out.
func (s *Store) Close() error { return nil }

// Put uploads the object: a single PUT up to 16 MiB of known size, a
// multipart upload (parts in parallel) above, and a streaming multipart
// upload of s.partSize parts when size is -1. A failed multipart upload is
// aborted.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := objstore.ValidateKey(key); err != nil {
		return err
	}
	if size < -1 {
		return fmt.Errorf("put %s: size %d (want >= 0, or -1 for unknown)", key, size)
	}
	if contentType == "" {
		contentType = objstore.DefaultContentType
	}
	opts := minio.PutObjectOptions{ContentType: contentType}
	if size < 0 {
		opts.PartSize = s.partSize
	}
	if _, err := s.client.PutObject(ctx, s.bucket, key, r, size, opts); err != nil {
		return wrap(ctx, "put", key, err)
	}
	return nil
}

// Get opens the object. It sends the GET at once, so a missing object is
// reported here rather than at the first Read.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := objstore.ValidateKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, wrap(ctx, "get", key, err)
	}
	if _, err := obj.Stat(); err != nil {
		_ = obj.Close() // nothing was read; the error below is the one that matters
		return nil, wrap(ctx, "get", key, err)
	}
	return obj, nil
}

// Stat sends a HEAD request.
func (s *Store) Stat(ctx context.Context, key string) (objstore.Object, error) {
	if err := objstore.ValidateKey(key); err != nil {
		return objstore.Object{}, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return objstore.Object{}, wrap(ctx, "stat", key, err)
	}
	return objstore.Object{Key: info.Key, Size: info.Size, Modified: info.LastModified.UTC(), ContentType: info.ContentType}, nil
}

// List pages through ListObjectsV2 with the prefix, recursively.
func (s *Store) List(ctx context.Context, prefix string) ([]objstore.Object, error) {
	if err := objstore.ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	// Cancelled on return so minio-go's listing goroutine ends with us.
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out []objstore.Object
	for info := range s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if info.Err != nil {
			return nil, wrap(ctx, "list", fmt.Sprintf("%q", prefix), info.Err)
		}
		if strings.HasSuffix(info.Key, "/") {
			continue // a "folder" marker some tools create; not a valid key here
		}
		out = append(out, objstore.Object{Key: info.Key, Size: info.Size, Modified: info.LastModified.UTC()})
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	// S3 lists in UTF-8 byte order already; sorting makes it a promise.
	slices.SortFunc(out, func(a, b objstore.Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete sends a DELETE; S3 answers a missing key with success.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := objstore.ValidateKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if code(err) == minio.NoSuchKey {
			return nil
		}
		return wrap(ctx, "delete", key, err)
	}
	return nil
}
