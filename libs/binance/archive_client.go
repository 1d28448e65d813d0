package binance

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/klauspost/compress/flate"
)

// DefaultArchiveURL is the public Binance bulk-data site.
const DefaultArchiveURL = "https://data.binance.vision"

// ArchiveURLFromEnv returns BINANCE_ARCHIVE_URL, or DefaultArchiveURL when it
// is unset or empty.
func ArchiveURLFromEnv() string {
	if v := os.Getenv("BINANCE_ARCHIVE_URL"); v != "" {
		return v
	}
	return DefaultArchiveURL
}

// ErrNoArchive is matched (errors.Is) by errors for periods the archive site
// has no file for (HTTP 404); callers fall back to REST for them.
var ErrNoArchive = errors.New("no archive for that period")

// NoArchiveError reports an archive URL that answered 404. It matches
// ErrNoArchive.
type NoArchiveError struct {
	URL string
}

func (e *NoArchiveError) Error() string { return "no archive at " + e.URL }

// Is makes errors.Is(err, ErrNoArchive) true.
func (e *NoArchiveError) Is(target error) bool { return target == ErrNoArchive }

// Archive downloads and parses data.binance.vision archives. Zips are spooled
// to a temporary file while being hashed, so a month of trades never sits in
// memory. It is safe for concurrent use.
type Archive struct {
	base     string
	hc       *http.Client
	tmpDir   string
	maxBytes int64 // largest archive downloaded; 0: no limit
}

// NewArchive returns an archive client for baseURL (see ArchiveURLFromEnv). A
// nil hc uses http.DefaultClient; tmpDir "" uses os.TempDir.
func NewArchive(baseURL string, hc *http.Client, tmpDir string) *Archive {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Archive{base: strings.TrimRight(baseURL, "/"), hc: hc, tmpDir: tmpDir}
}

// WithMaxBytes bounds the size of one downloaded archive: a larger one
// (announced or streamed) fails with an *ArchiveTooLargeError before more
// than n bytes are spooled. n <= 0 is no limit. It returns a.
func (a *Archive) WithMaxBytes(n int64) *Archive {
	a.maxBytes = n
	return a
}

// ArchiveTooLargeError is returned when an archive is larger than the
// limit WithMaxBytes set.
type ArchiveTooLargeError struct {
	URL   string
	Limit int64
}

func (e *ArchiveTooLargeError) Error() string {
	return fmt.Sprintf("archive %s is larger than the limit of %d bytes (LOADER_ARCHIVE_MAX_MB)", e.URL, e.Limit)
}

// Klines downloads the kline archive of symbol for the day or month holding
// day, verifies it against its .CHECKSUM and calls fn with every candle. It
// returns an error matching ErrNoArchive when the archive does not exist, a
// *ChecksumError when it is corrupt, or fn's error unwrapped.
func (a *Archive) Klines(ctx context.Context, symbol string, iv Interval, p Period, day time.Time, fn func(Candle) error) error {
	d, err := a.FetchKlines(ctx, symbol, iv, p, day)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.Klines(symbol, iv, fn)
}

// AggTrades is Klines for the aggTrades archive; invalid rows are skipped.
func (a *Archive) AggTrades(ctx context.Context, symbol string, p Period, day time.Time, fn func(AggTrade) error) error {
	d, err := a.FetchAggTrades(ctx, symbol, p, day)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.AggTrades(symbol, fn)
}

// FetchKlines downloads and verifies the kline archive without parsing it,
// so a loader can fetch several archives at once and read them in order.
// The caller closes the Download.
func (a *Archive) FetchKlines(ctx context.Context, symbol string, iv Interval, p Period, day time.Time) (*Download, error) {
	return a.fetch(ctx, KlinesArchivePath(symbol, iv, p, day))
}

// FetchAggTrades is FetchKlines for the aggTrades archive.
func (a *Archive) FetchAggTrades(ctx context.Context, symbol string, p Period, day time.Time) (*Download, error) {
	return a.fetch(ctx, AggTradesArchivePath(symbol, p, day))
}

// Download is an archive spooled to a temporary file and verified against
// its .CHECKSUM. Close removes the file.
type Download struct {
	url  string
	f    *os.File
	size int64
}

// Size returns the zip's size in bytes.
func (d *Download) Size() int64 { return d.size }

// Klines parses the archive as klines of symbol and calls fn with every
// candle; fn's error is returned unwrapped.
func (d *Download) Klines(symbol string, iv Interval, fn func(Candle) error) error {
	return d.parse(func(r io.Reader) error { return ParseKlinesCSV(r, symbol, iv, fn) })
}

// AggTrades parses the archive as aggregate trades of symbol; invalid rows
// are skipped.
func (d *Download) AggTrades(symbol string, fn func(AggTrade) error) error {
	return d.parse(func(r io.Reader) error { return ParseAggTradesCSV(r, symbol, fn) })
}

// KlinesJSON parses the archive as klines of symbol and calls fn with each
// candle's open time and JSON record, as KlinesCSVToJSON does: the fast path
// for publishing an archive as it is.
func (d *Download) KlinesJSON(symbol string, iv Interval, fn func(t int64, rec []byte) error) error {
	return d.parse(func(r io.Reader) error { return KlinesCSVToJSON(r, symbol, iv, fn) })
}

// AggTradesJSON is KlinesJSON for aggregate trades (AggTradesCSVToJSON).
func (d *Download) AggTradesJSON(symbol string, fn func(t int64, rec []byte) error) error {
	return d.parse(func(r io.Reader) error { return AggTradesCSVToJSON(r, symbol, fn) })
}

// Close removes the temporary file.
func (d *Download) Close() error {
	err := d.f.Close()
	if rerr := os.Remove(d.f.Name()); err == nil {
		err = rerr
	}
	return err
}

func (a *Archive) fetch(ctx context.Context, rel string) (*Download, error) {
	url := a.base + "/" + rel
	checksum, err := a.fetchChecksum(ctx, url+".CHECKSUM")
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(a.tmpDir, "binance-archive-*.zip")
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", url, err)
	}
	d := &Download{url: url, f: f}
	ok := false
	defer func() {
		if !ok {
			_ = d.Close()
		}
	}()
	size, sum, err := a.download(ctx, url, f)
	if err != nil {
		return nil, err
	}
	if err := VerifyChecksum(path.Base(rel), sum, checksum); err != nil {
		return nil, fmt.Errorf("archive %s: %w", url, err)
	}
	d.size = size
	ok = true
	return d, nil
}

func (d *Download) parse(parse func(io.Reader) error) error {
	zr, err := zip.NewReader(d.f, d.size)
	if err != nil {
		return fmt.Errorf("archive %s: %w", d.url, err)
	}
	zr.RegisterDecompressor(zip.Deflate, inflate)
	rc, err := OpenSingleCSV(zr)
	if err != nil {
		return fmt.Errorf("archive %s: %w", d.url, err)
	}
	ra := newReadAhead(rc, 256<<10, 4)
	perr := parse(ra)
	ra.stopReading()
	if cerr := rc.Close(); cerr != nil && perr == nil {
		// A zip entry's Close reports a CRC mismatch: data we already parsed was corrupt.
		return fmt.Errorf("archive %s: %w", d.url, cerr)
	}
	return perr
}

// inflate is the zip decompressor for archives: klauspost's flate, which
// inflates faster than the standard library's, reading the file through a
// large buffer (flate reads byte by byte, and the standard 4 KiB buffer
// costs a read system call per 4 KiB).
func inflate(r io.Reader) io.ReadCloser {
	return flate.NewReader(bufio.NewReaderSize(r, 256<<10))
}

// readAhead reads an io.Reader in a goroutine, up to a few blocks ahead of
// its caller, so that inflating an archive (a third of the work) runs on
// another core than parsing it. Read returns the source's data and then its
// error, in order.
type readAhead struct {
	filled chan aheadBlock
	free   chan []byte
	stop   chan struct{}
	done   chan struct{}
	cur    aheadBlock // the block Read takes from; cur.data is what is left
	buf    []byte     // cur's buffer, to hand back when it is used up
}

type aheadBlock struct {
	data []byte
	err  error
}

// newReadAhead starts reading r into blocks of size bytes; at most ahead
// blocks wait for the caller. The caller must call stopReading before it
// closes r.
func newReadAhead(r io.Reader, size, ahead int) *readAhead {
	ra := &readAhead{filled: make(chan aheadBlock, ahead), free: make(chan []byte, ahead+1),
		stop: make(chan struct{}), done: make(chan struct{})}
	for range ahead + 1 {
		ra.free <- make([]byte, size)
	}
	go ra.fill(r)
	return ra
}

func (ra *readAhead) fill(r io.Reader) {
	defer close(ra.done)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var k int
			k, err = r.Read(buf[n:])
			n += k
		}
		select {
		case ra.filled <- aheadBlock{data: buf[:n], err: err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read implements io.Reader.
func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur.data) == 0 {
		if ra.cur.err != nil {
			return 0, ra.cur.err
		}
		if ra.buf != nil {
			ra.free <- ra.buf[:cap(ra.buf)]
		}
		ra.cur = <-ra.filled
		ra.buf = ra.cur.data
	}
	n := copy(p, ra.cur.data)
	ra.cur.data = ra.cur.data[n:]
	return n, nil
}

// stopReading ends the goroutine and waits for it, so that the source can be
// closed.
func (ra *readAhead) stopReading() {
	close(ra.stop)
	<-ra.done
}

func (a *Archive) get(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", url, err)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", url, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		_ = resp.Body.Close()
		return nil, &NoArchiveError{URL: url}
	case resp.StatusCode != http.StatusOK:
		_ = resp.Body.Close()
		return nil, fmt.Errorf("archive %s: http status %d", url, resp.StatusCode)
	}
	return resp, nil
}

func (a *Archive) fetchChecksum(ctx context.Context, url string) ([]byte, error) {
	resp, err := a.get(ctx, url)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", url, err)
	}
	return b, nil
}

// download copies url into f and returns the size and hex sha256 of the body.
func (a *Archive) download(ctx context.Context, url string, f *os.File) (int64, string, error) {
	resp, err := a.get(ctx, url)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body := io.Reader(resp.Body)
	if a.maxBytes > 0 {
		if resp.ContentLength > a.maxBytes {
			return 0, "", &ArchiveTooLargeError{URL: url, Limit: a.maxBytes}
		}
		body = io.LimitReader(resp.Body, a.maxBytes+1)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), body)
	if err != nil {
		return 0, "", fmt.Errorf("archive %s: %w", url, err)
	}
	if a.maxBytes > 0 && n > a.maxBytes {
		return 0, "", &ArchiveTooLargeError{URL: url, Limit: a.maxBytes}
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
