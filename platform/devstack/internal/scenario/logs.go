package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Logs copies the output of one attempt of a step (0: its latest) to w;
// with follow it goes on until the attempt's run ends.
func (c *Client) Logs(ctx context.Context, workflow, step string, attempt int, follow bool, w io.Writer) error {
	q := url.Values{}
	if attempt > 0 {
		q.Set("attempt", strconv.Itoa(attempt))
	}
	if follow {
		q.Set("follow", "true")
	}
	path := "/api/v1/workflows/" + url.PathEscape(workflow) + "/steps/" + url.PathEscape(step) + "/logs"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.API+path, nil)
	if err != nil {
		return err
	}
	res, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var p problem
		b, _ := io.ReadAll(res.Body)
		if json.Unmarshal(b, &p) == nil && p.Detail != "" {
			return fmt.Errorf("logs of %s: %s", step, p.Detail)
		}
		return fmt.Errorf("logs of %s: %s", step, res.Status)
	}
	_, err = io.Copy(w, res.Body)
	return err
}
