package flow

// settlement is what settling a workflow decides: the state it is in once
// its steps are taken into account, and the steps that change with it.
type settlement struct {
	// State is the workflow's state after settling: unchanged while a step
	// can still change, final once none can.
	State string
	// Cancel are pending steps that will never start (a step failed, the
	// workflow stops, or a step they need ended without finishing): they
	// become stopped.
	Cancel []*Step
	// Stop are running steps to stop: they become stopping and their
	// workers get a stop command.
	Stop []*Step
}

// settle decides a workflow's state from its steps' states. It reads w and
// changes nothing: a failed step stops the rest of the workflow (pending
// steps are cancelled, running ones stopped), a pending step whose
// dependency ended without finishing is cancelled, and a workflow in which
// no step can change any more ends: failed when a step failed, stopped when
// one was stopped or the workflow was stopping, finished otherwise.
func settle(w *Workflow) settlement {
	out := settlement{State: w.State}
	if Terminal(w.State) {
		return out
	}
	failed := false
	for _, s := range w.Steps {
		failed = failed || s.State == Failed
	}
	halt := failed || w.State == Stopping
	// Steps come in DAG order, so a step's dependencies are settled before
	// it is looked at.
	state := make(map[string]string, len(w.Steps))
	all, stopped := true, w.State == Stopping
	for _, s := range w.Steps {
		st := s.State
		switch {
		case st == Pending && (halt || deadDep(s, state)):
			out.Cancel = append(out.Cancel, s)
			st = Stopped
		case st == Running && halt:
			out.Stop = append(out.Stop, s)
			st = Stopping
		}
		state[s.ID] = st
		all = all && Terminal(st)
		stopped = stopped || st == Stopped
	}
	if !all {
		return out
	}
	switch {
	case failed:
		out.State = Failed
	case stopped:
		out.State = Stopped
	default:
		out.State = Finished
	}
	return out
}

// deadDep reports whether a step that s needs ended without finishing.
func deadDep(s *Step, state map[string]string) bool {
	for _, id := range s.After {
		if st := state[id]; st == Failed || st == Stopped {
			return true
		}
	}
	return false
}
