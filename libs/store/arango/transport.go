package arango

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/arangodb/go-driver/v2/connection"

	"github.com/streamforge/streamforge/libs/redact"
)

// endpoints is the driver's connection.Endpoint over ARANGO_URL. By default
// every request goes to the current endpoint, and the transport moves on to
// the next one when it cannot connect: one coordinator (or the single
// server) serves a cursor from start to end. With round robin each request
// goes to the next endpoint in turn.
type endpoints struct {
	list       []string
	roundRobin bool

	mu  sync.Mutex
	cur int
}

// parseEndpoints splits ARANGO_URL at commas and checks each endpoint.
// ArangoDB's own tcp:// and ssl:// schemes are accepted for http and https.
func parseEndpoints(raw string, roundRobin bool) (*endpoints, error) {
	var list []string
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimRight(strings.TrimSpace(part), "/")
		if part == "" {
			continue
		}
		part = connection.FixupEndpointURLScheme(part)
		u, err := url.Parse(part)
		if err != nil {
			// url.Parse's error quotes the URL, password and all.
			return nil, fmt.Errorf("ARANGO_URL: endpoint %q: %s", redact.URLs(part), redact.URLs(err.Error()))
		}
		if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("ARANGO_URL: endpoint %q: want http://host:port or https://host:port", redact.URLs(part))
		}
		list = append(list, part)
	}
	if len(list) == 0 {
		return nil, errors.New("ARANGO_URL: no endpoint")
	}
	e := &endpoints{list: list, roundRobin: roundRobin}
	if err := connection.ValidateEndpointSchemes(e); err != nil {
		return nil, fmt.Errorf("ARANGO_URL: %s", redact.URLs(err.Error()))
	}
	return e, nil
}

// Get returns the endpoint for the next request.
func (e *endpoints) Get(provided, _, _ string) (string, error) {
	if provided != "" {
		return provided, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ep := e.list[e.cur]
	if e.roundRobin {
		e.cur = (e.cur + 1) % len(e.list)
	}
	return ep, nil
}

// List returns every endpoint.
func (e *endpoints) List() []string { return e.list }

// tls reports whether the endpoints use https.
func (e *endpoints) tls() bool { return strings.HasPrefix(e.list[0], "https://") }

// next returns the endpoint after the one serving u, and in failover mode
// makes it the current one, so later requests skip the endpoint that failed.
func (e *endpoints) next(u *url.URL) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	at := -1
	for i, ep := range e.list {
		if strings.HasPrefix(u.String(), ep+"/") || u.String() == ep {
			at = i
			break
		}
	}
	if at < 0 {
		return "", false
	}
	n := (at + 1) % len(e.list)
	if !e.roundRobin && e.cur == at {
		e.cur = n
	}
	return e.list[n], true
}

// transport is the http.RoundTripper under the driver. It bounds each
// request by the request timeout, fails over to the next endpoint when a
// connection cannot be made (the request was not sent, so any request may be
// resent), and turns error responses that are not JSON (a proxy's 502 page)
// into ArangoDB's error shape, so the driver reports their status code.
type transport struct {
	base    *http.Transport
	eps     *endpoints
	timeout time.Duration
}

func newTransport(eps *endpoints, tlsConf *tls.Config, timeout time.Duration) *transport {
	dialer := &net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	return &transport{
		base: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         dialer.DialContext,
			TLSClientConfig:     tlsConf,
			TLSHandshakeTimeout: min(timeout, 10*time.Second),
			ForceAttemptHTTP2:   tlsConf != nil,
			MaxIdleConns:        64,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
		},
		eps:     eps,
		timeout: timeout,
	}
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	req = req.WithContext(ctx)
	resp, err := t.base.RoundTrip(req)
	for tries := 1; err != nil && tries < len(t.eps.list) && notSent(err); tries++ {
		next, ok := t.retarget(req)
		if !ok {
			break
		}
		req = next
		resp, err = t.base.RoundTrip(req)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	if resp.StatusCode >= 400 && !isJSON(resp.Header.Get("Content-Type")) {
		return jsonError(resp)
	}
	return resp, nil
}

// CloseIdleConnections closes the connections kept for reuse.
func (t *transport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// retarget returns req aimed at the next endpoint, or false when it cannot
// be resent (its body cannot be read again).
func (t *transport) retarget(req *http.Request) (*http.Request, bool) {
	ep, ok := t.eps.next(req.URL)
	if !ok {
		return nil, false
	}
	target, err := url.Parse(ep)
	if err != nil {
		return nil, false
	}
	clone := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, false
		}
		body, err := req.GetBody()
		if err != nil {
			return nil, false
		}
		clone.Body = body
	}
	// The driver joins an endpoint's path with the API path; keep the API
	// path and swap the endpoint.
	current, err := url.Parse(t.endpointOf(req.URL))
	if err != nil {
		return nil, false
	}
	clone.URL.Scheme, clone.URL.Host = target.Scheme, target.Host
	clone.URL.Path = target.Path + strings.TrimPrefix(req.URL.Path, current.Path)
	clone.URL.RawPath = ""
	clone.Host = ""
	return clone, true
}

// endpointOf returns the endpoint u was built from.
func (t *transport) endpointOf(u *url.URL) string {
	for _, ep := range t.eps.list {
		if strings.HasPrefix(u.String(), ep+"/") || u.String() == ep {
			return ep
		}
	}
	return u.Scheme + "://" + u.Host
}

// notSent reports whether err happened before the request reached a server:
// dialling failed (connection refused, no route, DNS).
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// cancelOnClose releases the request's timeout when the body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// jsonError replaces a non-JSON error body with ArangoDB's error object
// {"error":true,"code":...,"errorNum":...,"errorMessage":...}, keeping the
// start of the original body in the message.
func jsonError(resp *http.Response) (*http.Response, error) {
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if err := resp.Body.Close(); err != nil {
		return nil, err
	}
	msg := strings.TrimSpace(resp.Status + ": " + strings.Join(strings.Fields(string(snippet)), " "))
	body, err := json.Marshal(map[string]any{
		"error": true, "code": resp.StatusCode, "errorNum": resp.StatusCode, "errorMessage": strings.TrimSuffix(msg, ":"),
	})
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header = resp.Header.Clone()
	resp.Header.Set("Content-Type", "application/json")
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.Header.Del("Content-Encoding")
	return resp, nil
}

// tlsConfig returns the TLS settings for https endpoints: the system roots,
// or the PEM bundle at caFile when set.
func tlsConfig(caFile string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return conf, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ARANGO_CA_FILE: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ARANGO_CA_FILE: %s holds no PEM certificate", caFile)
	}
	conf.RootCAs = pool
	return conf, nil
}
