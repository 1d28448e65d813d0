package app

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// SDPath serves Prometheus HTTP service discovery (http_sd_config).
const SDPath = "/sd/targets"

// targetLister is a launcher that knows where its runs serve /metrics (the
// local one; on Kubernetes the PodMonitor finds the worker Pods).
type targetLister interface {
	Targets(ctx context.Context) []launch.Target
}

// sdGroup is one entry of the http_sd_config JSON.
type sdGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// Scrape jobs the discovery names: queue-manager itself and the workers,
// as the ServiceMonitor's and PodMonitor's jobs are two on Kubernetes.
const (
	sdJobQueueManager = "queue-manager"
	sdJobWorkers      = "streamforge-workers"
)

// sdTargets answers with queue-manager itself, at the address the request
// reached it by (the scraper's view of it), and every running worker l
// names, labelled like the PodMonitor labels worker Pods.
func sdTargets(l targetLister) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		groups := []sdGroup{{Targets: []string{r.Host}, Labels: map[string]string{"job": sdJobQueueManager}}}
		if l != nil {
			for _, t := range l.Targets(r.Context()) {
				labels := map[string]string{"job": sdJobWorkers}
				for k, v := range t.Labels {
					labels[k] = v
				}
				groups = append(groups, sdGroup{Targets: []string{t.Addr}, Labels: labels})
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(groups)
	}
}
