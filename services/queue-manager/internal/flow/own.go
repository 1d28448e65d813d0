package flow

// Own names what a workflow made that is its own and no other workflow
// reads: the graphs of its graph and train steps (named after the workflow,
// see protocol.GraphName) and the artifact prefixes of its train steps (the
// request's ARTIFACT_PREFIX option, else gnn-trainer's default
// models/<queue_id>/). Market data collections are shared by every workflow
// whose range starts on the same day, and are not among them: a purge drops
// one only when no other workflow uses it (MarketData, Uses).
func (w *Workflow) Own() (graphs, artifactPrefixes []string) {
	seen := map[string]bool{}
	for _, s := range w.Steps {
		switch s.Kind {
		case KindGraph, KindTrain:
			if s.Collection != "" && !seen[s.Collection] {
				seen[s.Collection] = true
				graphs = append(graphs, s.Collection)
			}
		}
		if s.Kind == KindTrain {
			prefix := s.Env["ARTIFACT_PREFIX"]
			if prefix == "" {
				prefix = "models/" + s.QueueID + "/"
			}
			artifactPrefixes = append(artifactPrefixes, prefix)
		}
	}
	return graphs, artifactPrefixes
}
