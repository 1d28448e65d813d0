//go:build integration

package monitoring

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// prom is a client of the Prometheus HTTP API.
type prom struct{ base string }

// get decodes the data member of a Prometheus API answer into out.
func (p prom) get(ctx context.Context, path string, q url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return fmt.Errorf("%s: status %d: %w", path, res.StatusCode, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("%s %s: %s", path, q.Get("query"), body.Error)
	}
	return json.Unmarshal(body.Data, out)
}

// queryRange runs a range query from start to end and returns how many
// series it answered with at least one number (Grafana draws NaN, e.g. a
// quantile of a histogram without observations, as no data).
func (p prom) queryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (int, error) {
	var data struct {
		Result []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	q := url.Values{"query": {expr}, "start": {ts(start)}, "end": {ts(end)}, "step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}
	if err := p.get(ctx, "/api/v1/query_range", q, &data); err != nil {
		return 0, err
	}
	n := 0
	for _, r := range data.Result {
		for _, v := range r.Values {
			if s, _ := v[1].(string); s != "NaN" {
				n++
				break
			}
		}
	}
	return n, nil
}

// query runs an instant query and returns its vector's values by the
// value of label.
func (p prom) query(ctx context.Context, expr, label string) (map[string]float64, error) {
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, r := range data.Result {
		s, _ := r.Value[1].(string)
		v, _ := strconv.ParseFloat(s, 64)
		out[r.Metric[label]] = v
	}
	return out, nil
}

func ts(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }

// alert is an entry of /api/v1/alerts.
type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// alerts returns the pending and firing alerts.
func (p prom) alerts(ctx context.Context) ([]alert, error) {
	var data struct {
		Alerts []alert `json:"alerts"`
	}
	err := p.get(ctx, "/api/v1/alerts", nil, &data)
	return data.Alerts, err
}

// reload makes Prometheus read its configuration and rule files again.
func (p prom) reload(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/-/reload", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("reload: status %d", res.StatusCode)
	}
	return nil
}

// waitAlert waits until alert name is firing (want true) or no longer
// pending nor firing (want false), and returns how long that took.
func (p prom) waitAlert(t *testing.T, ctx context.Context, name string, want bool, limit time.Duration) time.Duration {
	t.Helper()
	begin := time.Now()
	for {
		as, err := p.alerts(ctx)
		if err != nil {
			t.Fatalf("alerts: %v", err)
		}
		active, firing := false, false
		for _, a := range as {
			if a.Labels["alertname"] == name {
				active = true
				firing = firing || a.State == "firing"
			}
		}
		if (want && firing) || (!want && !active) {
			return time.Since(begin)
		}
		if time.Since(begin) > limit {
			state := "firing"
			if !want {
				state = "inactive"
			}
			t.Fatalf("%s not %s after %s (alerts now: %+v)", name, state, limit, as)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
