package flow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/streamforge/streamforge/libs/store"
)

// KeysCollection is where the Idempotency-Keys of workflow requests are
// kept, so that a client retrying its POST after a restart finds the
// workflow its first POST created.
const KeysCollection = "idempotency_keys"

// Key is what an Idempotency-Key created: the request it came with (a hash
// of its body) and the workflow, remembered from At.
type Key struct {
	Hash     string    `json:"hash"`
	Workflow string    `json:"workflow"`
	At       time.Time `json:"at"`
}

// keyRecord names the record of a client's key: a hash, so that any key a
// client sends is a valid record key of every store.
func keyRecord(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "k" + hex.EncodeToString(sum[:])
}

// Key returns what key created, ErrNotFound when it was never remembered
// or was forgotten.
func (r *Repo) Key(ctx context.Context, key string) (Key, error) {
	rec, err := r.st.GetRecord(ctx, KeysCollection, keyRecord(key))
	if errors.Is(err, store.ErrNotFound) {
		return Key{}, ErrNotFound
	}
	if err != nil {
		return Key{}, err
	}
	var k Key
	if err := json.Unmarshal(rec.Body, &k); err != nil {
		return Key{}, fmt.Errorf("idempotency key %s: stored body: %w", rec.Key, err)
	}
	return k, nil
}

// RememberKey stores what key created, over what it created before (an
// entry past its time to live).
func (r *Repo) RememberKey(ctx context.Context, key string, k Key) error {
	body, err := json.Marshal(k)
	if err != nil {
		return err
	}
	rec := store.Record{Key: keyRecord(key), Body: body}
	_, err = r.st.CreateRecord(ctx, KeysCollection, rec)
	if !errors.Is(err, store.ErrExists) {
		return err
	}
	old, err := r.st.GetRecord(ctx, KeysCollection, rec.Key)
	if err != nil {
		return err
	}
	rec.Rev = old.Rev
	_, err = r.st.UpdateRecord(ctx, KeysCollection, rec)
	return err
}

// ForgetKeys deletes the keys remembered before t and returns how many it
// deleted.
func (r *Repo) ForgetKeys(ctx context.Context, before time.Time) (int, error) {
	n := 0
	q := store.RecordQuery{Limit: 500}
	for {
		page, err := r.st.ListRecords(ctx, KeysCollection, q)
		if err != nil {
			return n, err
		}
		for _, rec := range page {
			var k Key
			if err := json.Unmarshal(rec.Body, &k); err == nil && !k.At.Before(before) {
				continue
			}
			err := r.st.DeleteRecord(ctx, KeysCollection, rec.Key, rec.Rev)
			if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
				return n, err
			}
			if err == nil {
				n++
			}
		}
		if len(page) < q.Limit {
			return n, nil
		}
		q.After = page[len(page)-1].Key
	}
}
