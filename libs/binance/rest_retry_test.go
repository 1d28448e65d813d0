package binance

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRetriesAreReportedWithTheirCause: every retry is told, with the
// attempt, the cause and the wait before the next one.
func TestRetriesAreReportedWithTheirCause(t *testing.T) {
	clock := newAutoClock()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // connection refused
	var got []RetryInfo
	c := NewClient(srv.URL, ClientOptions{Now: clock.Now, Sleep: clock.Sleep, MaxAttempts: 3,
		OnRetry: func(r RetryInfo) { got = append(got, r) }})
	if _, err := c.Depth(context.Background(), "BTCUSDT", 5000); err == nil {
		t.Fatal("no error from a closed server")
	}
	if len(got) != 2 {
		t.Fatalf("%d retries reported, want 2 (3 attempts)", len(got))
	}
	slept := clock.Slept()
	for i, r := range got {
		if r.Attempt != i+1 || r.Endpoint != "/api/v3/depth" || r.Err == nil || !strings.Contains(r.Err.Error(), "refused") || r.Wait != slept[i] {
			t.Errorf("retry %d reported %+v, want attempt %d on /api/v3/depth, the refused connection, wait %s", i, r, i+1, slept[i])
		}
	}
}

// TestUnknownHostFailsAtOnce: a host name that does not resolve (offline,
// or a typo in BINANCE_REST_URL) fails on the first attempt, naming the
// host, instead of being retried for most of a minute.
func TestUnknownHostFailsAtOnce(t *testing.T) {
	clock := newAutoClock()
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.DNSError{Err: "no such host", Name: "api.binance.com", IsNotFound: true}
	}
	retried := 0
	c := NewClient("https://api.binance.com", ClientOptions{Now: clock.Now, Sleep: clock.Sleep,
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dial}}, OnRetry: func(RetryInfo) { retried++ }})
	_, err := c.ExchangeInfo(context.Background(), "BTCUSDT")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Attempts != 1 || !strings.Contains(err.Error(), "api.binance.com") {
		t.Fatalf("error = %v, want one attempt naming api.binance.com", err)
	}
	if retried != 0 || len(clock.Slept()) != 0 {
		t.Errorf("%d retries, %v slept; want none", retried, clock.Slept())
	}
}
