package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// launchHold is how long a blocked launch lasts at most: a launcher that
// hangs (an API server that does not answer, a process slow to start).
const launchHold = 5 * time.Second

// blockingLauncher blocks the next launch once block armed it, until that
// block is released or launchHold passed; other launches return at once.
type blockingLauncher struct {
	nopLauncher
	mu   sync.Mutex
	next *launchBlock
}

// launchBlock is one blocked launch.
type launchBlock struct {
	entered  chan struct{} // closed when the launch is blocked
	release  chan struct{}
	once     sync.Once
	returned atomic.Bool // the launch returned
}

func (b *launchBlock) open() { b.once.Do(func() { close(b.release) }) }

// block arms the next launch.
func (l *blockingLauncher) block() *launchBlock {
	b := &launchBlock{entered: make(chan struct{}), release: make(chan struct{})}
	l.mu.Lock()
	l.next = b
	l.mu.Unlock()
	return b
}

func (l *blockingLauncher) Launch(context.Context, launch.Spec) error {
	l.mu.Lock()
	b := l.next
	l.next = nil
	l.mu.Unlock()
	if b == nil {
		return nil
	}
	close(b.entered)
	select {
	case <-b.release:
	case <-time.After(launchHold):
	}
	b.returned.Store(true)
	return nil
}

// readRig is the API of an engine with n workflows in flight, each with a
// running loader, and a launcher that can be made to block.
type readRig struct {
	srv    *httptest.Server
	l      *blockingLauncher
	client *http.Client
	ids    []string
}

func newReadRig(tb testing.TB, n, readers int) *readRig {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "qm.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	repo := flow.NewRepo(st)
	l := &blockingLauncher{}
	eng := flow.NewEngine(repo, l, nopPub{}, flow.Options{})
	if err := eng.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	eng.Flowing()
	r := &readRig{l: l, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: readers}}}
	for i := range n {
		w, err := eng.Submit(context.Background(), loadOf(fmt.Sprintf("R%04dUSDT", i)))
		if err != nil {
			tb.Fatal(err)
		}
		r.ids = append(r.ids, w.ID)
	}
	router := chi.NewRouter()
	New(eng, repo, nil, zerolog.Nop()).Mount(router)
	r.srv = httptest.NewServer(router)
	tb.Cleanup(r.srv.Close)
	tb.Cleanup(r.client.CloseIdleConnections)
	return r
}

func loadOf(symbol string) flow.Request {
	return flow.Request{Symbols: []string{symbol}, Types: []string{"api_trades"}, TimeRange: "2024-08-01:2024-08-02", Steps: []string{flow.KindLoad}}
}

// submitBlocked submits a workflow over the API whose launch blocks, and
// returns once the launch is blocked; done is closed when the submit
// returned.
func (r *readRig) submitBlocked(tb testing.TB, symbol string) (b *launchBlock, done <-chan struct{}) {
	tb.Helper()
	b = r.l.block()
	body := fmt.Sprintf(`{"symbols":[%q],"types":["api_trades"],"time_range":"2024-08-01:2024-08-02","steps":["load"]}`, symbol)
	submitted := make(chan struct{})
	go func() {
		defer close(submitted)
		resp, err := r.client.Post(r.srv.URL+"/api/v1/workflows", "application/json", strings.NewReader(body))
		if err != nil {
			tb.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			tb.Errorf("submit: %d", resp.StatusCode)
		}
	}()
	select {
	case <-b.entered:
	case <-submitted:
		tb.Fatal("the submit returned without launching")
	}
	return b, submitted
}

// read gets the status of workflow id over the API.
func (r *readRig) read(id string) error {
	resp, err := r.client.Get(r.srv.URL + "/api/v1/workflows/" + id)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var w flow.Workflow
	if err := json.NewDecoder(resp.Body).Decode(&w); err != nil {
		return fmt.Errorf("read %s: %d: %w", id, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || w.ID != id {
		return fmt.Errorf("read %s: %d, workflow %q", id, resp.StatusCode, w.ID)
	}
	return nil
}

// TestStatusReadsDoNotWaitForABlockedLaunch: while a launch is blocked
// (for up to 5 s), status reads over the API of workflows in flight
// return, all of them before the launch does: they are not serialised
// behind it by the engine's lock.
func TestStatusReadsDoNotWaitForABlockedLaunch(t *testing.T) {
	const readers, each = 8, 25
	r := newReadRig(t, 20, readers)
	b, submitted := r.submitBlocked(t, "ETHUSDT")
	defer func() { b.open(); <-submitted }()
	var reads sync.WaitGroup
	for i := range readers {
		reads.Go(func() {
			for j := range each {
				if err := r.read(r.ids[(i*each+j)%len(r.ids)]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	reads.Wait()
	if b.returned.Load() {
		t.Fatalf("%d status reads returned only after the blocked launch", readers*each)
	}
}

// BenchmarkStatusReadsDuringBlockedLaunch reads the status of 100
// workflows in flight over the API (GET /api/v1/workflows/{id}, 4 clients
// back to back) while a launch is blocked for 5 s, each op one such
// launch; the baseline reads the same for 5 s with no launch under way.
// It reports the reads' p50 and p99 latency (the engine must keep p99
// under 50 ms) and their rate.
func BenchmarkStatusReadsDuringBlockedLaunch(b *testing.B) {
	const workflows, readers = 100, 4
	for _, blocked := range []bool{true, false} {
		name := fmt.Sprintf("launch-blocked/workflows=%d", workflows)
		if !blocked {
			name = fmt.Sprintf("baseline=idle/workflows=%d", workflows)
		}
		b.Run(name, func(b *testing.B) {
			r := newReadRig(b, workflows, readers)
			var lat []time.Duration
			var reading time.Duration
			for i := 0; b.Loop(); i++ {
				var until <-chan struct{}
				var blk *launchBlock
				if blocked {
					blk, until = r.submitBlocked(b, fmt.Sprintf("B%04dUSDT", i))
				} else {
					idle := make(chan struct{})
					time.AfterFunc(launchHold, func() { close(idle) })
					until = idle
				}
				start := time.Now()
				lat = append(lat, r.readUntil(b, readers, until)...)
				reading += time.Since(start)
				if blk != nil && !blk.returned.Load() {
					b.Fatal("reads ended before the blocked launch")
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(len(lat))/reading.Seconds(), "reads/s")
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
		})
	}
}

// readUntil reads statuses with n clients back to back until done is
// closed and returns the latency of every read.
func (r *readRig) readUntil(tb testing.TB, n int, done <-chan struct{}) []time.Duration {
	lats := make([][]time.Duration, n)
	var wg sync.WaitGroup
	for c := range n {
		wg.Go(func() {
			for i := c; ; i += n {
				select {
				case <-done:
					return
				default:
				}
				t0 := time.Now()
				if err := r.read(r.ids[i%len(r.ids)]); err != nil {
					tb.Error(err)
					return
				}
				lats[c] = append(lats[c], time.Since(t0))
			}
		})
	}
	wg.Wait()
	return slices.Concat(lats...)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
