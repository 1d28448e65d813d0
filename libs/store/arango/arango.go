// Package arango is the ArangoDB adapter of store.Store, on
// github.com/arangodb/go-driver/v2.
//
// Market data is written with one multi-document insert per batch in
// overwrite mode "replace", read back through streaming AQL cursors, and
// records are versioned with a "rev" attribute that AQL compares and bumps
// in the same statement. See libs/store/README.md for what each operation
// sends.
package arango

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"sync"
	"time"

	"github.com/arangodb/go-driver/v2/arangodb"
	"github.com/arangodb/go-driver/v2/arangodb/shared"
	"github.com/arangodb/go-driver/v2/connection"

	"github.com/streamforge/streamforge/libs/store"
)

var _ store.Store = (*Store)(nil)

// Defaults of the options.
const (
	DefaultRequestTimeout = 60 * time.Second
	DefaultBatchSize      = 1000
)

// Option configures Open.
type Option func(*options)

type options struct {
	timeout    time.Duration
	batchSize  int
	roundRobin bool
	now        func() time.Time
	conflicts  int
	backoff    time.Duration
}

// WithRequestTimeout bounds each HTTP request (connecting, sending and
// reading the answer); a request that takes longer fails with an error
// wrapping store.ErrUnavailable. Default DefaultRequestTimeout.
func WithRequestTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithBatchSize sets how many documents each cursor request returns: what
// Range and ReadGraph hold in memory at a time. Default DefaultBatchSize.
func WithBatchSize(n int) Option { return func(o *options) { o.batchSize = n } }

// WithRoundRobin sends each request to the next ARANGO_URL endpoint in turn
// (the coordinators of a cluster share the load; they forward cursor
// requests to the coordinator that owns the cursor). Without it every
// request goes to one endpoint until it cannot be reached.
func WithRoundRobin() Option { return func(o *options) { o.roundRobin = true } }

// WithClock sets the clock that stamps records' Created and Updated.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithConflictRetries sets how many times Upsert resends a batch that met
// write-write conflicts (another writer held one of its documents) before it
// gives up with store.ErrUnavailable, and the first wait, which doubles each
// time (with jitter). Default 5 resends from 20ms.
func WithConflictRetries(n int, backoff time.Duration) Option {
	return func(o *options) { o.conflicts, o.backoff = n, backoff }
}

func (o options) validate() error {
	var errs []error
	if o.timeout <= 0 {
		errs = append(errs, fmt.Errorf("request timeout %v: must be positive", o.timeout))
	}
	if o.batchSize <= 0 {
		errs = append(errs, fmt.Errorf("batch size %d: must be positive", o.batchSize))
	}
	if o.now == nil {
		errs = append(errs, errors.New("clock: must not be nil"))
	}
	if o.conflicts < 0 || o.backoff < 0 {
		errs = append(errs, fmt.Errorf("conflict retries %d from %v: must not be negative", o.conflicts, o.backoff))
	}
	return errors.Join(errs...)
}

// Store is a store.Store on an ArangoDB database. It is safe for concurrent
// use.
type Store struct {
	opts   options
	tr     *transport
	conn   connection.Connection
	client arangodb.Client
	db     arangodb.Database
	dbName string

	edges   sync.Map // collection name → bool: whether it is an edge collection
	records sync.Map // records collections known to exist with their indexes
}

// Open connects to the ArangoDB endpoints of cfg.ArangoURL (comma-separated)
// with basic authentication as cfg.ArangoUser, trusting cfg.ArangoCAFile for
// https endpoints when set, and creates the database cfg.ArangoDB when it is
// missing (which needs rights on _system). The error wraps
// store.ErrUnavailable when the server cannot be reached.
func Open(ctx context.Context, cfg store.Config, opts ...Option) (*Store, error) {
	o := options{
		timeout: DefaultRequestTimeout, batchSize: DefaultBatchSize, now: time.Now,
		conflicts: 5, backoff: 20 * time.Millisecond,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("open arangodb: %w", err)
	}
	if !validDatabaseName(cfg.ArangoDB) {
		return nil, fmt.Errorf("open arangodb: ARANGO_DB %q: want a letter, then letters, digits, _ or -, at most 64", cfg.ArangoDB)
	}
	eps, err := parseEndpoints(cfg.ArangoURL, o.roundRobin)
	if err != nil {
		return nil, fmt.Errorf("open arangodb: %w", err)
	}
	tlsConf, err := tlsConfig(cfg.ArangoCAFile)
	if err != nil {
		return nil, fmt.Errorf("open arangodb: %w", err)
	}
	if !eps.tls() {
		tlsConf = nil
	}
	tr := newTransport(eps, tlsConf, o.timeout)
	hc := connection.HttpConfiguration{Endpoint: eps, Transport: tr, ContentType: connection.ApplicationJSON}
	if cfg.ArangoUser != "" {
		hc.Authentication = connection.NewBasicAuth(cfg.ArangoUser, cfg.ArangoPassword)
	}
	conn := connection.NewHttpConnection(hc)
	s := &Store{opts: o, tr: tr, conn: conn, client: arangodb.NewClient(conn), dbName: cfg.ArangoDB}
	if err := s.ensureDatabase(ctx); err != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("open arangodb database %s at %s: %w", cfg.ArangoDB, eps.list[0], err)
	}
	return s, nil
}

// ensureDatabase creates the database when it does not exist.
func (s *Store) ensureDatabase(ctx context.Context) error {
	ok, err := s.client.DatabaseExists(ctx, s.dbName)
	if err != nil {
		return classify(err)
	}
	if !ok {
		// A concurrent Open may create it first: 1207 duplicate name.
		if _, err := s.client.CreateDatabase(ctx, s.dbName, nil); err != nil && !hasErrorNum(err, errNumDuplicateName) {
			return fmt.Errorf("create database: %w", classify(err))
		}
	}
	db, err := s.client.GetDatabase(ctx, s.dbName, &arangodb.GetDatabaseOptions{SkipExistCheck: true})
	if err != nil {
		return classify(err)
	}
	s.db = db
	return nil
}

// Close releases the idle connections. It always returns nil.
func (s *Store) Close() error {
	s.tr.CloseIdleConnections()
	return nil
}

var (
	collectionName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,255}$`)
	databaseName   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)
)

// checkName checks a collection or graph name against ArangoDB's traditional
// naming rules; names go into URL paths, so nothing else may pass.
func checkName(kind, name string) error {
	if !collectionName.MatchString(name) {
		return fmt.Errorf("%s name %q: want a letter or _, then letters, digits, _ or -, at most 256", kind, name)
	}
	return nil
}

func validDatabaseName(name string) bool { return name == "_system" || databaseName.MatchString(name) }

// dbPath returns the URL path of an API of the store's database.
func (s *Store) dbPath(parts ...string) string {
	return path.Join(append([]string{"_db", s.dbName}, parts...)...)
}

// EnsureCollection creates the collection (a document or an edge collection)
// when missing and adds its persistent indexes; an existing collection and
// its existing indexes are left as they are. The error wraps
// store.ErrUnavailable when the server cannot be reached.
func (s *Store) EnsureCollection(ctx context.Context, c store.Collection) error {
	if err := checkName("collection", c.Name); err != nil {
		return fmt.Errorf("ensure collection: %w", err)
	}
	typ := arangodb.CollectionTypeDocument
	if c.Edge {
		typ = arangodb.CollectionTypeEdge
	}
	_, err := s.db.CreateCollectionV2(ctx, c.Name, &arangodb.CreateCollectionPropertiesV2{Type: &typ})
	switch {
	case err == nil:
		s.edges.Store(c.Name, c.Edge)
	case hasErrorNum(err, errNumDuplicateName):
		// It exists: leave it as it is.
	default:
		return fmt.Errorf("create collection %s: %w", c.Name, classify(err))
	}
	col, err := s.db.GetCollection(ctx, c.Name, &arangodb.GetCollectionOptions{SkipExistCheck: true})
	if err != nil {
		return fmt.Errorf("collection %s: %w", c.Name, classify(err))
	}
	for _, idx := range c.Indexes {
		unique := idx.Unique
		// Creating an index that exists answers 200 with the existing one.
		if _, _, err := col.EnsurePersistentIndex(ctx, idx.Fields, &arangodb.CreatePersistentIndexOptions{Unique: &unique}); err != nil {
			return fmt.Errorf("ensure index %v on %s: %w", idx.Fields, c.Name, classify(err))
		}
	}
	return nil
}

// Count returns the number of documents in the collection, from
// GET /_api/collection/{name}/count. The error wraps store.ErrNotFound when
// the collection does not exist.
func (s *Store) Count(ctx context.Context, collection string) (int64, error) {
	if err := checkName("collection", collection); err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	col, err := s.db.GetCollection(ctx, collection, &arangodb.GetCollectionOptions{SkipExistCheck: true})
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", collection, classify(err))
	}
	n, err := col.Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", collection, classify(err))
	}
	return n, nil
}

// isEdge reports whether the collection is an edge collection, asking the
// server once per collection (GET /_api/collection/{name}: type 3 is edge).
// The error wraps store.ErrNotFound when the collection does not exist.
func (s *Store) isEdge(ctx context.Context, collection string) (bool, error) {
	if v, ok := s.edges.Load(collection); ok {
		return v.(bool), nil
	}
	var info struct {
		shared.ResponseStruct `json:",inline"`
		Type                  arangodb.CollectionType `json:"type"`
	}
	resp, err := connection.CallGet(ctx, s.conn, s.dbPath("_api", "collection", collection), &info)
	if err != nil {
		return false, classify(err)
	}
	if resp.Code() != http.StatusOK {
		return false, classify(info.AsArangoErrorWithCode(resp.Code()))
	}
	edge := info.Type == arangodb.CollectionTypeEdge
	s.edges.Store(collection, edge)
	return edge, nil
}
