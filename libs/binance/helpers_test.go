package binance

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// fixturesDir returns the recorded Binance data folder (BINANCE_FIXTURES, or
// ../../../shared/fixtures/binance from this package). Without it the test
// fails when CI is set and is skipped otherwise.
func fixturesDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("BINANCE_FIXTURES")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "fixtures", "binance")
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("binance fixtures folder %s is missing (set BINANCE_FIXTURES): %v", dir, err)
		}
		t.Skipf("binance fixtures folder %s is missing (set BINANCE_FIXTURES): %v", dir, err)
	}
	return dir
}

func openFixture(t *testing.T, rel string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(fixturesDir(t), rel))
	if err != nil {
		t.Fatalf("open fixture: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func readAll(f *os.File) ([]byte, error) { return io.ReadAll(f) }
