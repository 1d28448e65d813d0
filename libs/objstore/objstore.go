// Package objstore is StreamForge's object-storage port: models, weights,
// metrics and other artifacts stored as whole objects under slash-separated
// keys. Adapters: local (a directory tree, the embedded default) and s3 (S3,
// MinIO and compatible servers through github.com/minio/minio-go/v7).
// objstoreopen.Open picks one from Config.
//
// Every adapter checks keys with ValidateKey, so a key one of them accepts is
// accepted by all, and data moves between them unchanged.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors the adapters return, to be tested with errors.Is.
var (
	// ErrNotFound: there is no object under the key.
	ErrNotFound = errors.New("object not found")
	// ErrInvalidKey: the key (or list prefix) breaks the rules of ValidateKey.
	ErrInvalidKey = errors.New("invalid object key")
)

// DefaultContentType is what an object put with an empty content type is
// stored as.
const DefaultContentType = "application/octet-stream"

// MaxKeyLen is the longest key in bytes (S3's limit).
const MaxKeyLen = 1024

// MaxSegmentLen is the longest segment (the part between slashes) in bytes:
// a file name's limit, which file-backed servers (MinIO, versitygw) share
// with the local adapter.
const MaxSegmentLen = 255

// ReservedPrefix starts the names the local adapter keeps its temporary files
// and metadata under. No key segment may start with it, on any adapter, so
// that keys stay portable.
const ReservedPrefix = ".objstore"

// Object describes a stored object.
type Object struct {
	Key      string
	Size     int64     // bytes
	Modified time.Time // last write, as the backend records it
	// ContentType is set by Stat; List leaves it empty (S3 listings do not
	// carry it, and reading it would cost one request per object).
	ContentType string
}

// Store is what the services need from an object store. Adapters are safe
// for concurrent use. Keys are checked with ValidateKey: a bad one fails with
// an error wrapping ErrInvalidKey before anything is read or written.
type Store interface {
	// Put stores the size bytes r yields under key, replacing any object
	// there. size -1 means unknown: the object is streamed (on S3 as a
	// multipart upload). With size >= 0, r must yield at least size bytes;
	// fewer is an error, and bytes past size are not read. An empty
	// contentType means DefaultContentType. Readers never see a half-written
	// object: on error (ctx cancelled included) the previous object, if
	// any, stays as it was.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error

	// Get opens the object for reading; the caller closes it. Reads honour
	// ctx. ErrNotFound when there is no object under key.
	Get(ctx context.Context, key string) (io.ReadCloser, error)

	// Stat describes the object, ContentType included. ErrNotFound when
	// there is no object under key.
	Stat(ctx context.Context, key string) (Object, error)

	// List returns every object whose key starts with prefix (a plain string
	// prefix, not only whole segments: "a/b" matches "a/bc"), ordered by key
	// in byte order. An empty prefix lists everything. The prefix follows
	// ValidateKey's rules, except that it may be empty or end with "/".
	List(ctx context.Context, prefix string) ([]Object, error)

	// Delete removes the object. A missing object is not an error.
	Delete(ctx context.Context, key string) error

	// Location returns where the object lives, for logs and summaries:
	// "s3://bucket/key" or a file path. It does not check the object exists.
	Location(key string) string

	// Close releases the store's resources.
	Close() error
}

// ValidateKey checks a key: non-empty, at most MaxKeyLen bytes of UTF-8,
// slash-separated segments of at most MaxSegmentLen bytes that are neither empty (no leading, trailing or
// doubled "/"), "." nor "..", and no backslash, control character or segment
// starting with ReservedPrefix. The error wraps ErrInvalidKey.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: key is empty", ErrInvalidKey)
	}
	return checkPath(key, false)
}

// ValidatePrefix checks a List prefix: empty, or ValidateKey's rules with
// a trailing "/" allowed. The error wraps ErrInvalidKey.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return checkPath(prefix, true)
}

func checkPath(p string, prefix bool) error {
	what := "key"
	if prefix {
		what = "prefix"
	}
	bad := func(reason string) error {
		return fmt.Errorf("%w: %s %q %s", ErrInvalidKey, what, p, reason)
	}
	if len(p) > MaxKeyLen {
		return bad(fmt.Sprintf("is longer than %d bytes", MaxKeyLen))
	}
	if !utf8.ValidString(p) {
		return bad("is not valid UTF-8")
	}
	if p[0] == '/' {
		return bad("is absolute (starts with /)")
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			return bad(`contains a backslash (use "/" between segments)`)
		case c < 0x20 || c == 0x7f:
			return bad("contains a control character")
		}
	}
	segs := strings.Split(p, "/")
	if prefix && strings.HasSuffix(p, "/") {
		segs = segs[:len(segs)-1]
	}
	for _, s := range segs {
		switch {
		case s == "":
			return bad("has an empty segment (a doubled or trailing /)")
		case s == "." || s == "..":
			return bad(`has a "." or ".." segment`)
		case len(s) > MaxSegmentLen:
			return bad(fmt.Sprintf("has a segment longer than %d bytes", MaxSegmentLen))
		case strings.HasPrefix(s, ReservedPrefix):
			// A prefix's last segment may be the start of a longer one; it
			// still may not start with the reserved name.
			return bad(fmt.Sprintf("has a segment starting with %q (reserved)", ReservedPrefix))
		}
	}
	return nil
}
