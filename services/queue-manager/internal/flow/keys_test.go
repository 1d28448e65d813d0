package flow

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/store/sqlite"
)

// TestKeysAreForgottenAfterTheirTime: ForgetKeys deletes exactly the keys
// remembered before its time, and a key remembered again replaces its
// entry.
func TestKeysAreForgottenAfterTheirTime(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "qm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	repo, ctx := NewRepo(st), context.Background()
	for i, k := range []string{"old", "older", "new", "a key / with any characters ✓"} {
		at := t0.Add(-time.Duration(i) * time.Hour)
		if k == "new" || k[0] == 'a' {
			at = t0
		}
		if err := repo.RememberKey(ctx, k, Key{Hash: "h", Workflow: "wf-" + k, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := repo.RememberKey(ctx, "old", Key{Hash: "h2", Workflow: "wf-old-2", At: t0.Add(-2 * time.Hour)}); err != nil {
		t.Fatalf("remember a key again: %v", err)
	}
	n, err := repo.ForgetKeys(ctx, t0.Add(-30*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("ForgetKeys = %d, %v; want the 2 old keys", n, err)
	}
	for k, want := range map[string]string{"old": "", "older": "", "new": "wf-new", "a key / with any characters ✓": "wf-a key / with any characters ✓"} {
		got, err := repo.Key(ctx, k)
		switch {
		case want == "" && !errors.Is(err, ErrNotFound):
			t.Errorf("key %q after ForgetKeys: %+v, %v; want ErrNotFound", k, got, err)
		case want != "" && (err != nil || got.Workflow != want):
			t.Errorf("key %q: %+v, %v; want workflow %s", k, got, err, want)
		}
	}
}
