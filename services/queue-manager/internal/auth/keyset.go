package auth

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
)

// keyRefetch is the least time between two fetches of the issuer's keys.
// A token whose signature no known key verifies may be signed by a new key
// (the issuer rotated it), so the keys are fetched again, but at most this
// often: a stream of forged tokens cannot make queue-manager hammer the
// issuer, and a genuine rotation is picked up within it.
const keyRefetch = 10 * time.Second

// keySet is the issuer's published keys (its jwks_uri), fetched at first
// use and again, at most every keyRefetch, when a signature fails.
type keySet struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	keys    *oidc.StaticKeySet
	fetched time.Time // zero: never
}

var _ oidc.KeySet = (*keySet)(nil)

// VerifySignature returns the payload of a token one of the issuer's keys
// signed.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock() // one fetch at a time; verifications are fast
	if k.keys != nil {
		payload, err := k.keys.VerifySignature(ctx, jwt)
		if err == nil {
			return payload, nil
		}
		if k.now().Sub(k.fetched) < keyRefetch {
			return nil, err
		}
	}
	if err := k.fetch(); err != nil {
		return nil, err
	}
	return k.keys.VerifySignature(ctx, jwt)
}

// fetch reads the key set; a request of its own, bounded, so that the
// caller's cancellation does not cut it.
func (k *keySet) fetch() error {
	k.fetched = k.now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return fmt.Errorf("issuer keys %s: %w", k.url, err)
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return fmt.Errorf("issuer keys: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("issuer keys %s: %w", k.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("issuer keys %s: %s", k.url, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return fmt.Errorf("issuer keys %s: %w", k.url, err)
	}
	var pubs []crypto.PublicKey
	for _, key := range set.Keys {
		if key.Use == "" || key.Use == "sig" {
			pubs = append(pubs, key.Key)
		}
	}
	k.keys = &oidc.StaticKeySet{PublicKeys: pubs}
	return nil
}
