package binancesim

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// ReplayFile maps one monthly kline archive to a recorded CSV file (for example a real data.binance.vision archive's
// content). The file is read in place on every request and served byte for byte inside the zip, whatever the clock.
type ReplayFile struct {
	Symbol   string
	Interval Interval
	Month    time.Time // any instant in the month, UTC
	Path     string
}

// microsFrom is the first day whose spot archives carry microsecond timestamps on data.binance.vision.
var microsFrom = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	maxCachedArchives = 16
	// maxCachedArchiveBytes keeps huge archives (a default-rate month of trades) out of the cache; they are rebuilt,
	// byte-identical, on the next request.
	maxCachedArchiveBytes = 32 << 20
)

type archive struct {
	zip      []byte
	checksum []byte // "<sha256 hex>  <name>.zip\n"
	modTime  time.Time
}

type archiveCache struct {
	mu    sync.Mutex
	files map[string]archive
}

// archiveRequest is a parsed /data/spot/... path.
type archiveRequest struct {
	daily    bool
	trades   bool // aggTrades, else klines
	symbol   string
	interval Interval
	from, to time.Time // the period [from, to)
	base     string    // file name without ".zip"
	checksum bool
}

// parseArchivePath parses /data/spot/{daily|monthly}/{klines/<SYM>/<iv>|aggTrades/<SYM>}/<file>.zip[.CHECKSUM].
func parseArchivePath(p string) (archiveRequest, bool) {
	var a archiveRequest
	parts := strings.Split(strings.TrimPrefix(p, "/data/spot/"), "/")
	if len(parts) < 4 || !strings.HasPrefix(p, "/data/spot/") {
		return a, false
	}
	switch parts[0] {
	case "daily":
		a.daily = true
	case "monthly":
	default:
		return a, false
	}
	a.symbol = parts[2]
	file := parts[len(parts)-1]
	prefix := a.symbol + "-aggTrades-"
	switch {
	case parts[1] == "klines" && len(parts) == 5:
		// Archives name monthly candles 1mo (binance-public-data's README:
		// "1mo is used instead of 1M to support non-case sensitive file
		// systems"); 1M is not a folder there.
		a.interval = Interval(parts[3])
		if a.interval == "1mo" {
			a.interval = "1M"
		} else if a.interval == "1M" || !a.interval.Valid() {
			return a, false
		}
		prefix = a.symbol + "-" + parts[3] + "-"
	case parts[1] == "aggTrades" && len(parts) == 4:
		a.trades = true
	default:
		return a, false
	}
	if a.checksum = strings.HasSuffix(file, ".zip.CHECKSUM"); a.checksum {
		file = strings.TrimSuffix(file, ".CHECKSUM")
	}
	if !strings.HasSuffix(file, ".zip") {
		return a, false
	}
	a.base = strings.TrimSuffix(file, ".zip")
	date, ok := strings.CutPrefix(a.base, prefix)
	if !ok {
		return a, false
	}
	layout := "2006-01"
	if a.daily {
		layout = "2006-01-02"
	}
	from, err := time.Parse(layout, date)
	if err != nil || from.Format(layout) != date {
		return a, false
	}
	a.from, a.to = from, from.AddDate(0, 1, 0)
	if a.daily {
		a.to = from.AddDate(0, 0, 1)
	}
	return a, true
}

func (s *Sim) serveArchive(w http.ResponseWriter, r *http.Request) {
	a, ok := parseArchivePath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	ar, ok, err := s.archive(a)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	if a.checksum {
		w.Header().Set("Content-Type", "text/plain")
		http.ServeContent(w, r, a.base+".zip.CHECKSUM", ar.modTime, bytes.NewReader(ar.checksum))
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	http.ServeContent(w, r, a.base+".zip", ar.modTime, bytes.NewReader(ar.zip))
}

// archive returns the archive for a, building and caching it; ok is false when the site would answer 404: an unknown
// symbol, a period before the market's start, or a period not fully in the past.
func (s *Sim) archive(a archiveRequest) (archive, bool, error) {
	replay := s.replayFor(a)
	if replay == "" {
		if _, known := s.market.symbol(a.symbol); !known || !a.to.After(s.market.Start()) {
			return archive{}, false, nil
		}
		if a.to.After(s.opts.Clock()) {
			return archive{}, false, nil
		}
	}
	key := a.base
	if a.daily {
		key = "daily/" + key
	}
	s.arch.mu.Lock()
	defer s.arch.mu.Unlock()
	if ar, ok := s.arch.files[key]; ok && replay == "" {
		return ar, true, nil
	}
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	// A fixed modification time keeps the bytes, and so the checksum, identical across runs.
	f, err := zw.CreateHeader(&zip.FileHeader{Name: a.base + ".csv", Method: zip.Deflate, Modified: a.to})
	if err != nil {
		return archive{}, false, fmt.Errorf("zip %s: %w", a.base, err)
	}
	if replay != "" {
		b, err := os.ReadFile(replay)
		if err != nil {
			return archive{}, false, fmt.Errorf("read replay file: %w", err)
		}
		if _, err := f.Write(b); err != nil {
			return archive{}, false, fmt.Errorf("zip %s: %w", a.base, err)
		}
	} else if err := s.writeCSV(f, a); err != nil {
		return archive{}, false, fmt.Errorf("generate %s: %w", a.base, err)
	}
	if err := zw.Close(); err != nil {
		return archive{}, false, fmt.Errorf("zip %s: %w", a.base, err)
	}
	sum := sha256.Sum256(z.Bytes())
	ar := archive{zip: z.Bytes(), checksum: fmt.Appendf(nil, "%s  %s.zip\n", hex.EncodeToString(sum[:]), a.base),
		modTime: a.to}
	if replay == "" && len(ar.zip) <= maxCachedArchiveBytes {
		if s.arch.files == nil || len(s.arch.files) >= maxCachedArchives {
			s.arch.files = make(map[string]archive)
		}
		s.arch.files[key] = ar
	}
	return ar, true, nil
}

func (s *Sim) replayFor(a archiveRequest) string {
	if a.daily || a.trades {
		return ""
	}
	for _, rf := range s.opts.Replay {
		m := rf.Month.UTC()
		if rf.Symbol == a.symbol && rf.Interval == a.interval && m.Year() == a.from.Year() && m.Month() == a.from.Month() {
			return rf.Path
		}
	}
	return ""
}

// writeCSV writes the archive's rows without a header, in the REST column order; times are in microseconds for
// periods from 2025-01-01, as on data.binance.vision.
func (s *Sim) writeCSV(w io.Writer, a archiveRequest) error {
	scale := int64(1)
	if !a.from.Before(microsFrom) {
		scale = 1000
	}
	var b []byte
	flush := func() error {
		_, err := w.Write(b)
		b = b[:0]
		return err
	}
	from, to := a.from.UnixMilli(), a.to.UnixMilli()-1
	if a.trades {
		// Day by day, so a month of trades never sits in memory twice.
		for d := from; d <= to; d += msPerDay {
			trades, err := s.market.aggTradesByTime(a.symbol, d*1000, min(d+msPerDay-1, to)*1000+999, math.MaxInt)
			if err != nil {
				return err
			}
			for _, t := range trades {
				b = fmt.Appendf(b, "%d,", t.ID)
				b = appendFixed(b, t.Price)
				b = append(b, ',')
				b = appendFixed(b, t.Qty)
				tm := t.Time
				if scale == 1000 {
					tm = t.Micros // the archives' microseconds carry the sub-millisecond part
				}
				b = fmt.Appendf(b, ",%d,%d,%d,%s,True\n", t.FirstTradeID, t.LastTradeID, tm, pyBool(t.BuyerMaker))
			}
			if err := flush(); err != nil {
				return err
			}
		}
		return nil
	}
	candles, err := s.market.candles(a.symbol, a.interval, from, to, math.MaxInt64, math.MaxInt)
	if err != nil {
		return err
	}
	for _, c := range candles {
		b = fmt.Appendf(b, "%d,", c.OpenTime*scale)
		for _, v := range []int64{c.Open, c.High, c.Low, c.Close, c.Volume} {
			b = appendFixed(b, v)
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d,", c.CloseTime*scale+scale-1)
		b = appendFloat(b, c.QuoteVolume)
		b = fmt.Appendf(b, ",%d,", c.Trades)
		b = appendFixed(b, c.TakerBuyVolume)
		b = append(b, ',')
		b = appendFloat(b, c.TakerBuyQuoteVolume)
		b = append(b, ",0\n"...)
	}
	return flush()
}

func pyBool(v bool) string {
	if v {
		return "True"
	}
	return "False"
}
