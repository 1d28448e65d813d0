// Package api is queue-manager's REST API: workflows created, listed,
// followed live (Server-Sent Events), stopped and deleted. Errors are RFC
// 9457 problem+json naming the field at fault. The API is described by
// openapi.yaml, served at /openapi.yaml.
package api

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/services/queue-manager/internal/auth"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

//go:embed openapi.yaml
var openAPI []byte

// MaxBody is the largest request body accepted.
const MaxBody = 64 << 10

// Engine is what the API drives.
type Engine interface {
	Submit(ctx context.Context, r flow.Request) (*flow.Workflow, error)
	Get(ctx context.Context, id string) (*flow.Workflow, error)
	Stop(ctx context.Context, id string) (*flow.Workflow, error)
	Delete(ctx context.Context, id string) error
	Subscribe(id string) (<-chan flow.Change, func(), bool)
}

// ErrStandby is what the engine of a queue-manager that does not lead
// answers to a change: another queue-manager runs the workflows (503 with
// Retry-After).
var ErrStandby = errors.New("this queue-manager is on standby: another one runs the workflows; retry")

// Records are the stored workflows and the Idempotency-Keys of the
// requests that created them; *flow.Repo is one.
type Records interface {
	List(ctx context.Context, q store.RecordQuery) ([]*flow.Workflow, error)
	// Key returns what an Idempotency-Key created, flow.ErrNotFound when
	// nothing.
	Key(ctx context.Context, key string) (flow.Key, error)
	RememberKey(ctx context.Context, key string, k flow.Key) error
	// ForgetKeys deletes the keys remembered before a time.
	ForgetKeys(ctx context.Context, before time.Time) (int, error)
}

// API serves the routes.
type API struct {
	eng  Engine
	recs Records
	now  func() time.Time
	log  zerolog.Logger

	symbols  Symbols     // nil: symbols are not checked against the exchange
	logs     launch.Logs // nil: no step logs
	purger   Purger      // nil: DELETE cannot purge
	coverage Coverage    // nil: no coverage ledger
	counter  Counter     // nil: no collection counts
	graphs   GraphReader // nil: no graph pictures
	market   Market      // nil: no market streams

	idemMu sync.Mutex // one creation with a key at a time
	// admission is held shared by every submission and alone by a purge:
	// a workflow submitted while a purge decides which collections no
	// other workflow uses, and drops them, could lose what its store step
	// wrote to a collection of the same day.
	admission sync.RWMutex
	purged    time.Time // when keys past their TTL were last deleted

	verifier TokenVerifier // nil: AUTH_MODE=none
	limits   Limits
	clients  clients
}

// idemTTL is how long an Idempotency-Key is remembered; keys older than
// that are deleted at most every idemPurge, so the stored keys stay bounded
// by the requests of a day.
const (
	idemTTL   = 24 * time.Hour
	idemPurge = time.Hour
)

// New returns the API; now is the clock (nil: time.Now).
func New(eng Engine, recs Records, now func() time.Time, log zerolog.Logger) *API {
	if now == nil {
		now = time.Now
	}
	return &API{eng: eng, recs: recs, now: now, log: log}
}

// Protect makes the API ask every caller of /api/ for a bearer token that v
// accepts (nil: nobody is asked, everyone is admin) and bounds what each
// client may cost; call it before Mount.
func (a *API) Protect(v TokenVerifier, l Limits) *API {
	a.verifier, a.limits = v, l
	return a
}

// Mount adds the routes to r.
func (a *API) Mount(r chi.Router) {
	doc := servedDocument(a.verifier != nil)
	r.Get("/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(doc)
	})
	r.Route("/api/v1/workflows", func(r chi.Router) {
		r.Use(a.authenticate, a.rateLimit) // see authn.go and limit.go
		read, create, change := require(auth.RoleViewer), require(auth.RoleOperator), chi.Chain(require(auth.RoleOperator), a.ownerOrAdmin)
		r.With(create).Post("/", a.create)
		r.With(read).Get("/", a.listWorkflows)
		r.With(read).Get("/{id}", a.get)
		r.With(change...).Delete("/{id}", a.remove)
		r.With(change...).Post("/{id}/stop", a.stop)
		r.With(change...).Post("/{id}/retry", a.retry)
		r.With(read).Get("/{id}/steps/{step}/logs", a.stepLogs)
		r.With(read).Get("/{id}/events", a.events)
		r.With(read).Get("/{id}/graph", a.getGraph)
	})
	r.Route("/api/v1/coverage", func(r chi.Router) {
		r.Use(a.authenticate, a.rateLimit)
		r.With(require(auth.RoleViewer)).Get("/", a.getCoverage)
	})
	r.With(a.authenticate, a.rateLimit, require(auth.RoleViewer)).Get("/api/v1/market/{symbol}/stream", a.marketStream)
	r.With(a.authenticate, a.rateLimit, require(auth.RoleViewer)).Get("/api/v1/collections", a.listCollections)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "not found", "no route "+r.Method+" "+r.URL.Path, "")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if r.Match(chi.NewRouteContext(), m, req.URL.Path) {
				allowed = append(allowed, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		problem(w, http.StatusMethodNotAllowed, "method not allowed", req.Method+" is not allowed on "+req.URL.Path, "")
	})
}

// problem writes an RFC 9457 problem document.
func problem(w http.ResponseWriter, status int, title, detail, field string) {
	body := map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail}
	if field != "" {
		body["field"] = field
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *API) fail(w http.ResponseWriter, err error) {
	var fe *protocol.FieldError
	switch {
	case errors.As(err, &fe):
		problem(w, http.StatusBadRequest, "invalid request", fe.Detail(), fe.Field)
	case errors.Is(err, flow.ErrNotFound):
		problem(w, http.StatusNotFound, "not found", err.Error(), "")
	case errors.Is(err, flow.ErrActive):
		problem(w, http.StatusConflict, "conflict", err.Error(), "")
	case errors.Is(err, flow.ErrTooMany):
		w.Header().Set("Retry-After", "60")
		problem(w, http.StatusTooManyRequests, "too many workflows", err.Error(), "")
	case errors.Is(err, ErrStandby):
		w.Header().Set("Retry-After", "5")
		problem(w, http.StatusServiceUnavailable, "standby", err.Error(), "")
	case errors.Is(err, store.ErrUnavailable):
		w.Header().Set("Retry-After", "5")
		problem(w, http.StatusServiceUnavailable, "store unavailable", err.Error(), "")
	default:
		problem(w, http.StatusInternalServerError, "internal error", err.Error(), "")
	}
}

// decode reads a JSON body strictly: one object, known fields only, at
// most MaxBody bytes.
func decode(w http.ResponseWriter, r *http.Request, v any) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, &protocol.FieldError{Field: "Content-Type", Problem: fmt.Sprintf("want application/json, got %q", ct)}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &protocol.FieldError{Field: "body", Problem: fmt.Sprintf("larger than %d bytes", MaxBody)}
		}
		return nil, &protocol.FieldError{Field: "body", Problem: err.Error()}
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, &protocol.FieldError{Field: fieldOf(err), Problem: "not a valid workflow request: " + err.Error()}
	}
	if dec.More() {
		return nil, &protocol.FieldError{Field: "body", Problem: "more than one JSON value"}
	}
	return body, nil
}

func fieldOf(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field
	}
	if s := err.Error(); strings.HasPrefix(s, "json: unknown field ") {
		return strings.Trim(strings.TrimPrefix(s, "json: unknown field "), `"`)
	}
	return "body"
}

func (a *API) create(w http.ResponseWriter, r *http.Request) {
	var req flow.Request
	body, err := decode(w, r, &req)
	if err != nil {
		a.fail(w, err)
		return
	}
	if err := req.Validate(a.now()); err != nil {
		a.fail(w, err)
		return
	}
	if err := a.checkSymbols(r.Context(), req.Symbols); err != nil {
		a.fail(w, err)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 200 {
		problem(w, http.StatusBadRequest, "invalid request", "Idempotency-Key: longer than 200 characters", "Idempotency-Key")
		return
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if key != "" {
		// A key is its caller's: another's same key finds nothing.
		p, _ := auth.FromContext(r.Context())
		key = p.Subject + "\n" + key
		a.idemMu.Lock()
		defer a.idemMu.Unlock() // one creation per key at a time
		a.purgeKeys(r.Context())
		e, err := a.recs.Key(r.Context(), key)
		switch {
		case errors.Is(err, flow.ErrNotFound):
		case err != nil:
			a.fail(w, fmt.Errorf("read Idempotency-Key: %w", err))
			return
		case a.now().Sub(e.At) < idemTTL && e.Hash != hash:
			problem(w, http.StatusUnprocessableEntity, "idempotency key reused",
				"Idempotency-Key was used with a different request body", "Idempotency-Key")
			return
		case a.now().Sub(e.At) < idemTTL:
			wf, err := a.eng.Get(r.Context(), e.Workflow)
			if err != nil {
				a.fail(w, err)
				return
			}
			w.Header().Set("Location", "/api/v1/workflows/"+wf.ID)
			writeJSON(w, http.StatusOK, wf)
			return
		}
	}
	a.admission.RLock()
	wf, err := a.eng.Submit(r.Context(), req)
	a.admission.RUnlock()
	if err != nil {
		a.fail(w, err)
		return
	}
	if key != "" {
		if err := a.recs.RememberKey(r.Context(), key, flow.Key{Hash: hash, Workflow: wf.ID, At: a.now()}); err != nil {
			// The workflow exists: answer with it; a retry of this
			// request may create another.
			a.log.Warn().Err(err).Str("workflow", wf.ID).Msg("idempotency key not stored")
		}
	}
	w.Header().Set("Location", "/api/v1/workflows/"+wf.ID)
	writeJSON(w, http.StatusAccepted, wf)
}

// purgeKeys deletes the keys past their TTL, at most every idemPurge.
func (a *API) purgeKeys(ctx context.Context) {
	now := a.now()
	if now.Sub(a.purged) < idemPurge {
		return
	}
	a.purged = now
	if _, err := a.recs.ForgetKeys(ctx, now.Add(-idemTTL)); err != nil {
		a.log.Warn().Err(err).Msg("idempotency keys past their time to live not deleted")
	}
}

func (a *API) listWorkflows(w http.ResponseWriter, r *http.Request) {
	q := store.RecordQuery{Symbol: r.URL.Query().Get("symbol"), After: r.URL.Query().Get("after"), Limit: 50}
	for _, s := range r.URL.Query()["status"] {
		switch s {
		case flow.Pending, flow.Running, flow.Stopping, flow.Finished, flow.Failed, flow.Stopped:
			q.Status = append(q.Status, s)
		default:
			problem(w, http.StatusBadRequest, "invalid request", fmt.Sprintf("status: unknown status %q", s), "status")
			return
		}
	}
	if r.URL.Query().Has("limit") { // limit= too: not a number
		n, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil || n < 1 || n > 500 {
			problem(w, http.StatusBadRequest, "invalid request", "limit: want a whole number from 1 to 500", "limit")
			return
		}
		q.Limit = n
	}
	wfs, err := a.recs.List(r.Context(), q)
	if err != nil {
		a.fail(w, err)
		return
	}
	for i, wf := range wfs { // the live state of active ones
		if live, err := a.eng.Get(r.Context(), wf.ID); err == nil {
			wfs[i] = live
		}
	}
	page := map[string]any{"workflows": wfs}
	if len(wfs) == q.Limit {
		page["next"] = "/api/v1/workflows?" + nextQuery(r, wfs[len(wfs)-1].ID)
	}
	writeJSON(w, http.StatusOK, page)
}

func nextQuery(r *http.Request, after string) string {
	v := r.URL.Query()
	v.Set("after", after)
	return v.Encode()
}

func (a *API) get(w http.ResponseWriter, r *http.Request) {
	wf, err := a.eng.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, wf)
}

func (a *API) stop(w http.ResponseWriter, r *http.Request) {
	wf, err := a.eng.Stop(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, wf)
}

func (a *API) remove(w http.ResponseWriter, r *http.Request) {
	if purge, err := queryBool(r, "purge"); err != nil || purge {
		if err != nil {
			problem(w, http.StatusBadRequest, "invalid request", err.Error(), "purge")
			return
		}
		a.purge(w, r)
		return
	}
	if err := a.eng.Delete(r.Context(), chi.URLParam(r, "id")); err != nil {
		a.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// events streams the workflow as Server-Sent Events: its current state
// first, then every change, until it ends (or the client goes).
func (a *API) events(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	wf, err := a.eng.Get(r.Context(), id)
	if err != nil {
		a.fail(w, err)
		return
	}
	flusher, release, ok := a.beginStream(w, r)
	if !ok {
		return
	}
	defer release()
	ch, cancel, live := a.eng.Subscribe(id)
	defer cancel()
	if !live { // it ended between the two calls, or long ago
		if final, err := a.eng.Get(r.Context(), id); err == nil {
			wf = final
		}
		if !flow.Terminal(wf.State) { // a standby: it cannot follow it
			a.fail(w, ErrStandby)
			return
		}
	}
	streamHeader(w)
	send := func(event string, v any) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	if !send("workflow", flow.Change{Kind: "workflow", Workflow: wf}) || !live {
		send("end", map[string]string{"state": wf.State})
		return
	}
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	last := wf
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepalive.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case c, ok := <-ch:
			if !ok {
				if final, err := a.eng.Get(context.WithoutCancel(r.Context()), id); err == nil {
					last = final
				}
				send("end", map[string]string{"state": last.State})
				return
			}
			last = c.Workflow
			if !send(sseData(c)) {
				return
			}
		}
	}
}

// beginStream readies a Server-Sent Events answer: the writer must flush,
// the client may hold at most Limits.Streams open (429 beyond), and the
// server's read and write timeouts, which are for requests, are lifted (an
// error: a writer without deadlines, as in tests). It answers the refusal
// itself; release ends the client's stream.
func (a *API) beginStream(w http.ResponseWriter, r *http.Request) (flusher http.Flusher, release func(), ok bool) {
	if flusher, ok = w.(http.Flusher); !ok {
		problem(w, http.StatusInternalServerError, "internal error", "streaming unsupported", "")
		return nil, nil, false
	}
	if release, ok = a.openStream(r); !ok {
		tooMany(w, 5*time.Second, fmt.Sprintf("more than the %d event streams a client may hold open", a.limits.Streams))
		return nil, nil, false
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	return flusher, release, true
}

// streamHeader starts an event stream's 200 answer.
func streamHeader(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
}
