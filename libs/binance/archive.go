package binance

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Period selects daily or monthly archive files.
type Period int

// The archive periods of data.binance.vision.
const (
	Daily Period = iota
	Monthly
)

func (p Period) dir() string {
	if p == Monthly {
		return "monthly"
	}
	return "daily"
}

func (p Period) stamp(day time.Time) string {
	if p == Monthly {
		return day.UTC().Format("2006-01")
	}
	return day.UTC().Format("2006-01-02")
}

// KlinesArchivePath returns the path of a spot kline archive relative to the
// archive base URL, e.g.
// "data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2024-08.zip". The checksum
// file is the same path plus ".CHECKSUM". Monthly candles are "1mo" there,
// not "1M", "to support non-case sensitive file systems"
// (binance-public-data's README).
func KlinesArchivePath(symbol string, iv Interval, p Period, day time.Time) string {
	name := iv.name
	if iv.months > 0 {
		name = "1mo"
	}
	return fmt.Sprintf("data/spot/%s/klines/%s/%s/%s-%s-%s.zip",
		p.dir(), symbol, name, symbol, name, p.stamp(day))
}

// AggTradesArchivePath returns the path of a spot aggTrades archive relative to
// the archive base URL, e.g.
// "data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-08-01.zip".
func AggTradesArchivePath(symbol string, p Period, day time.Time) string {
	return fmt.Sprintf("data/spot/%s/aggTrades/%s/%s-aggTrades-%s.zip",
		p.dir(), symbol, symbol, p.stamp(day))
}

// maxLine bounds one CSV line; real lines are under 200 bytes.
const maxLine = 64 << 10

// csvLines calls fn with the comma-separated fields of every non-empty line of
// r and its 1-based line number. fields is reused between calls.
func csvLines(r io.Reader, fn func(line int, fields [][]byte) error) error {
	br := bufio.NewReaderSize(r, maxLine)
	fields := make([][]byte, 0, 16)
	for line := 1; ; line++ {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("line %d: longer than %d bytes", line, maxLine)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("line %d: %w", line, err)
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) > 0 {
			fields = fields[:0]
			for {
				i := bytes.IndexByte(b, ',')
				if i < 0 {
					fields = append(fields, b)
					break
				}
				fields = append(fields, b[:i])
				b = b[i+1:]
			}
			if ferr := fn(line, fields); ferr != nil {
				return ferr
			}
		}
		if err != nil { // io.EOF
			return nil
		}
	}
}

// isHeader reports whether the first line is a header rather than data: data
// lines start with a number.
func isHeader(line int, fields [][]byte) bool {
	if line != 1 || len(fields) == 0 {
		return false
	}
	_, err := strconv.ParseInt(string(fields[0]), 10, 64)
	return err != nil
}

// ParseKlinesCSV reads an archive kline CSV (12 columns in REST order, no
// header; a header line is tolerated) from r and calls fn with each candle in
// file order, times converted to milliseconds. It stops at the first malformed
// line with an error naming the line, or at the first error from fn, which it
// returns unwrapped.
func ParseKlinesCSV(r io.Reader, symbol string, iv Interval, fn func(Candle) error) error {
	err := parseCSV(r, func(f [][]byte) (Candle, bool, error) {
		c, err := parseKlineFields(symbol, iv, f)
		return c, true, err
	}, fn)
	if err != nil && !isCallbackErr(err) {
		return fmt.Errorf("klines csv %s %s: %w", symbol, iv.name, err)
	}
	return unwrapCallback(err)
}

// callbackError carries an error returned by the caller's fn through
// csvLines, so that parseCSV's callers can return it unwrapped.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

func isCallbackErr(err error) bool {
	_, ok := err.(callbackError)
	return ok
}

func unwrapCallback(err error) error {
	if ce, ok := err.(callbackError); ok {
		return ce.err
	}
	return err
}

// parseCSV runs the row loop the archive parsers and transcoders share:
// skip a header line, turn each row into a record with parse (keep=false
// skips it), prefix a row's error with its line number, and hand records to
// fn. An error from fn comes back as a callbackError.
func parseCSV[T any](r io.Reader, parse func(f [][]byte) (rec T, keep bool, err error), fn func(T) error) error {
	return csvLines(r, func(line int, f [][]byte) error {
		if isHeader(line, f) {
			return nil
		}
		rec, keep, err := parse(f)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if !keep {
			return nil
		}
		if err := fn(rec); err != nil {
			return callbackError{err}
		}
		return nil
	})
}

func parseKlineFields(symbol string, iv Interval, f [][]byte) (Candle, error) {
	if len(f) != 12 {
		return Candle{}, fmt.Errorf("%d columns, want 12", len(f))
	}
	p := fieldParser{f: f}
	c := Candle{Symbol: symbol, Interval: iv.name}
	c.OpenTime = p.time(0)
	c.Open = p.float(1)
	c.High = p.float(2)
	c.Low = p.float(3)
	c.Close = p.float(4)
	c.Volume = p.float(5)
	c.CloseTime = p.time(6)
	c.QuoteVolume = p.float(7)
	c.Trades = p.int(8)
	c.TakerBuyBase = p.float(9)
	c.TakerBuyQuote = p.float(10)
	c.Time = c.OpenTime
	return c, p.err
}

// ParseAggTradesCSV reads an archive aggTrades CSV (agg id, price, qty, first
// id, last id, transact time, is buyer maker, is best match; no header, a
// header line is tolerated) from r and calls fn with each trade, times in
// milliseconds. Rows Binance marks invalid (price and qty 0, first and last id
// -1) are skipped. Errors are returned as by ParseKlinesCSV.
func ParseAggTradesCSV(r io.Reader, symbol string, fn func(AggTrade) error) error {
	err := parseCSV(r, func(f [][]byte) (AggTrade, bool, error) {
		if len(f) != 8 {
			return AggTrade{}, false, fmt.Errorf("%d columns, want 8", len(f))
		}
		p := fieldParser{f: f}
		a := AggTrade{Symbol: symbol}
		a.AggID = p.int(0)
		a.Price = p.float(1)
		a.Qty = p.float(2)
		a.FirstID = p.int(3)
		a.LastID = p.int(4)
		a.Time = p.time(5)
		a.BuyerMaker = p.bool(6)
		return a, !a.invalid(), p.err
	}, fn)
	if err != nil && !isCallbackErr(err) {
		return fmt.Errorf("aggTrades csv %s: %w", symbol, err)
	}
	return unwrapCallback(err)
}

// invalid reports whether a is one of the placeholder rows Binance documents
// as invalid: p="0", q="0", f=-1, l=-1.
func (a *AggTrade) invalid() bool {
	return a.Price == 0 && a.Qty == 0 && a.FirstID == -1 && a.LastID == -1
}

// fieldParser parses columns and remembers the error of the leftmost bad
// one, whatever order they are parsed in, so a row parses without an if
// after every column.
type fieldParser struct {
	f   [][]byte
	err error
	col int // the column of err
}

func (p *fieldParser) fail(i int, err error) {
	if p.err == nil || i < p.col {
		p.err, p.col = fmt.Errorf("column %d %q: %w", i+1, p.f[i], err), i
	}
}

func (p *fieldParser) int(i int) int64 {
	if v, ok := parseSmallInt(p.f[i]); ok {
		return v
	}
	v, err := strconv.ParseInt(string(p.f[i]), 10, 64)
	if err != nil {
		p.fail(i, err)
	}
	return v
}

func (p *fieldParser) time(i int) int64 {
	v, err := NormalizeMillis(p.int(i))
	if err != nil {
		p.fail(i, err)
	}
	return v
}

func (p *fieldParser) float(i int) float64 {
	if v, ok := parsePlainDecimal(p.f[i]); ok {
		return v
	}
	v, err := strconv.ParseFloat(string(p.f[i]), 64)
	if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
		err = errors.New("not a finite number")
	}
	if err != nil {
		p.fail(i, err)
	}
	return v
}

func (p *fieldParser) bool(i int) bool {
	switch string(p.f[i]) {
	case "True", "true":
		return true
	case "False", "false":
		return false
	}
	v, err := strconv.ParseBool(string(p.f[i]))
	if err != nil {
		p.fail(i, err)
	}
	return v
}

// parseSmallInt is the fast path of strconv.ParseInt for an optional minus
// and at most 18 digits (which cannot overflow); anything else is left to
// strconv, for its errors.
func parseSmallInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// parsePlainDecimal is the fast path of strconv.ParseFloat for the numbers
// archives hold: an optional minus, digits, and a fraction, with at most 15
// significant digits. Then the digits as an integer m and 10^frac are exact
// float64 values and m/10^frac is correctly rounded, as ParseFloat's result
// is. Anything else (exponents, more digits, errors) is left to strconv.
func parsePlainDecimal(b []byte) (float64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var m uint64
	digits, frac, intDigits := 0, -1, 0
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if m == 0 && c == '0' {
				// Leading zeros are not significant.
			} else if digits++; digits > 15 {
				return 0, false
			}
			m = m*10 + uint64(c-'0')
			if frac >= 0 {
				frac++
			} else {
				intDigits++
			}
		case c == '.' && frac < 0 && i > 0:
			frac = 0
		default:
			return 0, false
		}
	}
	switch {
	case intDigits == 0 || frac == 0:
		return 0, false // "", "-", "1." : strconv decides
	case frac < 0:
		frac = 0
	}
	if frac >= len(pow10) {
		return 0, false
	}
	v := float64(m) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

// ChecksumError reports that an archive does not match its .CHECKSUM file.
type ChecksumError struct {
	File string // the archive file name
	Got  string // sha256 of the data, hex
	Want string // sha256 from the .CHECKSUM file, hex
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("checksum mismatch for %s: sha256 %s, .CHECKSUM says %s", e.File, e.Got, e.Want)
}

// ParseChecksum parses the content of a .CHECKSUM file ("<sha256hex>  <name>")
// and returns the hex digest and the file name it covers.
func ParseChecksum(content []byte) (sum, name string, err error) {
	fields := strings.Fields(string(content))
	if len(fields) != 2 {
		return "", "", fmt.Errorf("checksum file: want \"<sha256>  <file>\", got %q", content)
	}
	sum = strings.ToLower(fields[0])
	if b, err := hex.DecodeString(sum); err != nil || len(b) != sha256.Size {
		return "", "", fmt.Errorf("checksum file: %q is not a sha256 hex digest", fields[0])
	}
	return sum, fields[1], nil
}

// VerifyChecksum checks that gotSum (hex sha256 of the archive named file)
// matches the .CHECKSUM content. A mismatch returns a *ChecksumError; a
// checksum file for another file name also returns an error naming both.
func VerifyChecksum(file, gotSum string, checksum []byte) error {
	want, name, err := ParseChecksum(checksum)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if name != file {
		return fmt.Errorf("%s: checksum file covers %s", file, name)
	}
	if !strings.EqualFold(gotSum, want) {
		return &ChecksumError{File: file, Got: gotSum, Want: want}
	}
	return nil
}

// OpenSingleCSV opens the one CSV file inside a Binance archive zip. Any other
// layout (no file, several files) returns an error. The caller closes the
// returned reader.
func OpenSingleCSV(zr *zip.Reader) (io.ReadCloser, error) {
	var csvs []*zip.File
	for _, f := range zr.File {
		if !f.FileInfo().IsDir() {
			csvs = append(csvs, f)
		}
	}
	if len(csvs) != 1 || !strings.HasSuffix(strings.ToLower(csvs[0].Name), ".csv") {
		names := make([]string, len(csvs))
		for i, f := range csvs {
			names[i] = f.Name
		}
		return nil, fmt.Errorf("zip holds %v, want exactly one .csv", names)
	}
	rc, err := csvs[0].Open()
	if err != nil {
		return nil, fmt.Errorf("open %s in zip: %w", csvs[0].Name, err)
	}
	return rc, nil
}
