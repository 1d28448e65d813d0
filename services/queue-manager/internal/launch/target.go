package launch

// Target is where a run serves /metrics and the labels Prometheus should
// give its series: the same as the PodMonitor derives from a worker Pod's
// labels (deploy/monitoring/podmonitor.yaml), so that one set of alerts and
// dashboards fits both launchers.
type Target struct {
	Addr   string
	Labels map[string]string
}

// Target label names.
const (
	TargetWorker   = "worker"   // the service, e.g. loader-producer
	TargetWorkflow = "workflow" // the workflow's id
	TargetQueueID  = "queue_id" // the step's queue_id
	TargetStep     = "step"     // the step kind: load, store, graph, train
	TargetRun      = "run"      // the run's ID (Spec.ID)
)

// TargetOf returns the target of run s serving /metrics on addr.
func TargetOf(addr string, s Spec) Target {
	return Target{Addr: addr, Labels: map[string]string{
		TargetWorker: s.Service, TargetWorkflow: s.Labels["workflow"], TargetQueueID: s.Labels["queue_id"],
		TargetStep: s.Labels["step"], TargetRun: s.ID,
	}}
}
