package binancesim

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// recordedLine is one message of BINANCE.ws.1.0 as the file has it.
type recordedLine struct {
	at  float64
	msg string
}

// wsRecording returns the recording folder, the URL the recorder connected to and its messages.
func wsRecording(t *testing.T) (dir, header string, msgs []recordedLine) {
	t.Helper()
	dir = filepath.Join(fixturesDir(t), "ws-recording")
	f, err := os.Open(filepath.Join(dir, "BINANCE.ws.1.0"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case header == "":
			header, _, _ = strings.Cut(line, " <-> ")
		default:
			at, msg, _ := strings.Cut(line, ": ")
			secs, err := strconv.ParseFloat(at, 64)
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, recordedLine{secs, msg})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return dir, header, msgs
}

func TestWSReplaySendsTheRecording(t *testing.T) {
	dir, header, msgs := wsRecording(t)
	_, base, _ := newTestSim(t, Options{WS: WSOptions{Replay: dir}})

	// Subscribed to what the recorder subscribed to, a connection gets every message byte for byte, in order.
	_, query, _ := strings.Cut(header, "/stream?")
	c := dialWS(t, base, "/stream?"+query)
	for i, want := range msgs {
		if got := string(readMsg(t, c)); got != want.msg {
			t.Fatalf("message %d:\n got %.200s\nwant %.200s", i, got, want.msg)
		}
	}
	// A raw connection to one stream gets that stream's data members only.
	raw := dialWS(t, base, "/ws/runeeur@depth@100ms")
	n := 0
	for _, m := range msgs {
		if !strings.HasPrefix(m.msg, `{"stream":"runeeur@depth@100ms","data":`) {
			continue
		}
		want := strings.TrimSuffix(strings.TrimPrefix(m.msg, `{"stream":"runeeur@depth@100ms","data":`), "}")
		if got := string(readMsg(t, raw)); got != want {
			t.Fatalf("raw message %d: got %s, want %s", n, got, want)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no runeeur@depth@100ms messages in the recording")
	}
}

func TestWSReplayPacesByTheClock(t *testing.T) {
	dir, header, msgs := wsRecording(t)
	_, base, clk := newTestSim(t, Options{WS: WSOptions{Replay: dir, ReplaySpeed: 2, PingInterval: time.Hour}})
	_, query, _ := strings.Cut(header, "/stream?")
	c := dialWS(t, base, "/stream?"+query)
	clk.Add(4 * time.Second) // eight recorded seconds at twice the speed
	want := 0
	for _, m := range msgs {
		if m.at-msgs[0].at <= 8 {
			want++
		}
	}
	got := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, _, err := c.Read(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got++
	}
	if got != want || want == 0 || want == len(msgs) {
		t.Errorf("after 8 recorded seconds %d messages were sent, want %d of %d", got, want, len(msgs))
	}
}

func TestWSReplayDepthSnapshots(t *testing.T) {
	dir, _, _ := wsRecording(t)
	_, base, _ := newTestSim(t, Options{WS: WSOptions{Replay: dir}})
	body, err := os.ReadFile(filepath.Join(dir, "BINANCE.http.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	var recorded string
	for _, line := range strings.Split(string(body), "\n") {
		if strings.Contains(line, "symbol=NKNUSDT") {
			_, rest, _ := strings.Cut(line, " -> ")
			_, recorded, _ = strings.Cut(rest, ": ")
		}
	}
	if r := get(t, base, "/api/v3/depth", vals("symbol", "NKNUSDT", "limit", "1000")); string(r.body) != recorded {
		t.Errorf("depth limit 1000: %d %.100s, want the recorded snapshot", r.status, r.body)
	}
	top := decode[struct {
		LastUpdateID int64       `json:"lastUpdateId"`
		Bids         [][2]string `json:"bids"`
		Asks         [][2]string `json:"asks"`
	}](t, get(t, base, "/api/v3/depth", vals("symbol", "NKNUSDT", "limit", "5")))
	if top.LastUpdateID != 499869752 || len(top.Bids) != 5 || len(top.Asks) != 5 || top.Bids[0] != [2]string{"0.35210000", "672.00000000"} {
		t.Errorf("depth limit 5 = %+v, want the recorded top 5 at 499869752", top)
	}
	// The market's own symbols are still served from the live book.
	if r := get(t, base, "/api/v3/depth", vals("symbol", "BTCUSDT", "limit", "5")); r.status != http.StatusOK {
		t.Errorf("BTCUSDT depth: %d %s", r.status, r.body)
	}
}

func TestWSReplayMissingFolder(t *testing.T) {
	_, base, _ := newTestSim(t, Options{WS: WSOptions{Replay: filepath.Join(t.TempDir(), "nothing")}})
	r := get(t, base, "/stream", vals("streams", "btcusdt@trade"))
	if r.status != http.StatusInternalServerError || !strings.Contains(string(r.body), "BINANCE.ws.1.0") {
		t.Errorf("got %d %s, want 500 naming the missing file", r.status, r.body)
	}
}
