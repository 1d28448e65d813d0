// Package objstoreopen opens the object store the environment asks for: S3
// when MINIO_ENDPOINT is set, else the local directory ARTIFACT_DIR.
package objstoreopen

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamforge/streamforge/libs/objstore"
	"github.com/streamforge/streamforge/libs/objstore/local"
	"github.com/streamforge/streamforge/libs/objstore/s3"
)

// Option configures Open.
type Option func(*options)

type options struct {
	reg prometheus.Registerer
	s3  []s3.Option
}

// WithRegisterer counts operations and bytes in reg (objstore.NewMetrics),
// labelled with the backend.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(o *options) { o.reg = reg }
}

// WithS3Options passes options to s3.Open; the local backend ignores them.
func WithS3Options(opts ...s3.Option) Option {
	return func(o *options) { o.s3 = append(o.s3, opts...) }
}

// Open validates cfg and returns the store it selects. The S3 backend checks
// the server and the bucket before returning (see s3.Open). Close it when
// done.
func Open(ctx context.Context, cfg objstore.Config, opts ...Option) (objstore.Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var st objstore.Store
	if cfg.Endpoint != "" {
		s, err := s3.Open(ctx, cfg, o.s3...)
		if err != nil {
			return nil, err
		}
		st = s
	} else {
		s, err := local.Open(cfg.ArtifactDir)
		if err != nil {
			return nil, err
		}
		st = s
	}
	if o.reg != nil {
		st = objstore.Instrument(st, cfg.Backend(), objstore.NewMetrics(o.reg))
	}
	return st, nil
}
