package arango

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/arangodb/go-driver/v2/arangodb"

	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/storetest"
)

// TestConformance runs the store conformance suite against the live
// ArangoDB that ARANGO_URL names (with ARANGO_USER, ARANGO_PASSWORD and
// ARANGO_CA_FILE as Open reads them), each subtest on a fresh database that
// is dropped afterwards:
//
//	ARANGO_URL=http://localhost:8529 go test ./store/arango/
func TestConformance(t *testing.T) {
	var base store.Config
	if err := envconfig.Process("", &base); err != nil {
		t.Fatalf("read ARANGO_* variables: %v", err)
	}
	if base.ArangoURL == "" {
		t.Skip("ARANGO_URL is not set: the conformance suite needs a live ArangoDB")
	}
	prefix := fmt.Sprintf("sf_conformance_%d", time.Now().UnixNano())
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		cfg := base
		cfg.ArangoDB = fmt.Sprintf("%s_%d", prefix, n.Add(1))
		s, err := Open(t.Context(), cfg)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { dropDatabase(t, base, cfg.ArangoDB) })
		return s
	})
}

// dropDatabase removes a test database through _system.
func dropDatabase(t *testing.T, cfg store.Config, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg.ArangoDB = "_system"
	sys, err := Open(ctx, cfg)
	if err != nil {
		t.Errorf("drop database %s: %v", name, err)
		return
	}
	defer sys.Close()
	db, err := sys.client.GetDatabase(ctx, name, &arangodb.GetDatabaseOptions{SkipExistCheck: true})
	if err == nil {
		err = db.Remove(ctx)
	}
	if err != nil {
		t.Errorf("drop database %s: %v", name, err)
	}
}
