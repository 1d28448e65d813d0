package binancesim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/coder/websocket"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
)

// Files of a cryptofeed recording (WSOptions.Replay).
const (
	replayWSFile   = "BINANCE.ws.1.0"
	replayHTTPFile = "BINANCE.http.0.0"
)

// replayData is a loaded recording.
type replayData struct {
	msgs      []replayMsg       // in recorded order
	kinds     map[string]bool   // the recorded stream kinds ("bookTicker", "depth@100ms", ...)
	snapshots map[string][]byte // /api/v3/depth body by symbol
}

type replayMsg struct {
	offsetMs int64 // receipt time after the first message
	stream   string
	combined []byte // the message as recorded: {"stream":...,"data":...}
	data     []byte // the data member, for raw connections
}

// loadReplay reads the recording in dir. It returns an error naming the file and line that is missing or malformed.
func loadReplay(dir string) (*replayData, error) {
	rec := &replayData{kinds: map[string]bool{}, snapshots: map[string][]byte{}}
	first := math.NaN()
	err := eachLine(filepath.Join(dir, replayWSFile), func(n int, line []byte) error {
		if n == 1 && bytes.Contains(line, []byte(" <-> ")) {
			return nil // the header: the URL the recorder connected to
		}
		at, msg, ok := bytes.Cut(line, []byte(": "))
		if !ok {
			return fmt.Errorf("want \"<time>: <message>\"")
		}
		secs, err := strconv.ParseFloat(string(at), 64)
		if err != nil {
			return fmt.Errorf("receipt time: %w", err)
		}
		var env struct {
			Stream string          `json:"stream"`
			Data   json.RawMessage `json:"data"`
		}
		if err := exactjson.Unmarshal(msg, &env); err != nil {
			return fmt.Errorf("message: %w", err)
		}
		if env.Stream == "" || len(env.Data) == 0 {
			return fmt.Errorf("message without stream or data")
		}
		if math.IsNaN(first) {
			first = secs
		}
		if _, kind, ok := strings.Cut(env.Stream, "@"); ok {
			rec.kinds[kind] = true
		}
		rec.msgs = append(rec.msgs, replayMsg{offsetMs: int64(math.Round((secs - first) * 1000)), stream: env.Stream,
			combined: msg, data: env.Data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachLine(filepath.Join(dir, replayHTTPFile), func(_ int, line []byte) error {
		u, rest, ok := bytes.Cut(line, []byte(" -> "))
		if !ok {
			return fmt.Errorf("want \"<url> -> <time>: <body>\"")
		}
		pu, err := url.Parse(string(u))
		if err != nil {
			return fmt.Errorf("url: %w", err)
		}
		if pu.Path != "/api/v3/depth" {
			return nil
		}
		_, body, ok := bytes.Cut(rest, []byte(": "))
		if !ok || !json.Valid(body) {
			return fmt.Errorf("depth snapshot is not JSON")
		}
		rec.snapshots[pu.Query().Get("symbol")] = body
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// eachLine calls fn with every non-empty line of the file (numbered from 1).
func eachLine(path string, fn func(n int, line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(n, bytes.Clone(line)); err != nil {
			return fmt.Errorf("replay %s line %d: %w", filepath.Base(path), n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("replay %s: %w", filepath.Base(path), err)
	}
	return nil
}

// sendRecorded sends a recorded message as it was received, or its data on a raw connection.
func (c *wsConn) sendRecorded(m replayMsg) error {
	b := m.combined
	if !c.combined {
		b = m.data
	}
	if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil { // bounded by the tick's watchdog
		return err
	}
	c.hub.sent.Add(1)
	return nil
}

// replayDepth returns the recorded /api/v3/depth body of symbol cut to limit levels per side; ok is false when the
// recording has no snapshot of symbol (or there is no recording).
func (h *wsHub) replayDepth(symbol string, limit int) (body []byte, ok bool, err error) {
	rec, err := h.recording()
	if err != nil || rec == nil {
		return nil, false, err
	}
	raw, ok := rec.snapshots[symbol]
	if !ok {
		return nil, false, nil
	}
	var d struct {
		LastUpdateID int64       `json:"lastUpdateId"`
		Bids         [][2]string `json:"bids"`
		Asks         [][2]string `json:"asks"`
	}
	if err := exactjson.Unmarshal(raw, &d); err != nil {
		return nil, false, fmt.Errorf("replay depth %s: %w", symbol, err)
	}
	if len(d.Bids) <= limit && len(d.Asks) <= limit {
		return raw, true, nil // byte for byte
	}
	d.Bids, d.Asks = d.Bids[:min(limit, len(d.Bids))], d.Asks[:min(limit, len(d.Asks))]
	out, err := json.Marshal(d)
	if err != nil {
		return nil, false, fmt.Errorf("replay depth %s: %w", symbol, err)
	}
	return out, true, nil
}

// replayed reports whether symbol's depth is answered from the recording.
func (h *wsHub) replayed(symbol string) bool {
	rec, err := h.recording()
	if err != nil || rec == nil {
		return false
	}
	_, ok := rec.snapshots[symbol]
	return ok
}
