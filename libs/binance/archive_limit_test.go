package binance

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// TestArchiveSizeLimit: an archive larger than WithMaxBytes fails with an
// *ArchiveTooLargeError whether the server announces its length or streams
// it chunked, without spooling more than the limit; one within the limit
// is read as usual.
func TestArchiveSizeLimit(t *testing.T) {
	const name = "BTCUSDT-5m-2025-01-15.zip"
	zipData := buildZip(t, map[string][]byte{"BTCUSDT-5m-2025-01-15.csv": []byte(
		"1736899200000,1,2,0.5,1.5,10,1736899499999,15,3,5,7.5,0\n")})
	dir := "/data/spot/daily/klines/BTCUSDT/5m/"
	day := time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)
	for _, chunked := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case dir + name + ".CHECKSUM":
				_, _ = w.Write(checksumOf(zipData, name))
			case dir + name:
				if chunked {
					w.(http.Flusher).Flush() // no Content-Length
				}
				_, _ = w.Write(zipData)
			default:
				http.NotFound(w, r)
			}
		}))
		tmp := t.TempDir()
		limit := int64(len(zipData) - 1)
		err := NewArchive(srv.URL, srv.Client(), tmp).WithMaxBytes(limit).Klines(context.Background(), "BTCUSDT",
			mustInterval(t, "5m"), Daily, day, func(Candle) error { return nil })
		var tl *ArchiveTooLargeError
		if !errors.As(err, &tl) || tl.Limit != limit || !strings.Contains(err.Error(), name) {
			t.Errorf("chunked=%v: error %v, want an *ArchiveTooLargeError naming %s", chunked, err, name)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("chunked=%v: %d spooled files left behind", chunked, len(left))
		}
		n := 0
		err = NewArchive(srv.URL, srv.Client(), tmp).WithMaxBytes(int64(len(zipData))).Klines(context.Background(), "BTCUSDT",
			mustInterval(t, "5m"), Daily, day, func(Candle) error { n++; return nil })
		if err != nil || n != 1 {
			t.Errorf("chunked=%v: within the limit: %d candles, %v", chunked, n, err)
		}
		srv.Close()
	}
}
