// Package gnn is the numeric core of gnn-trainer: a compact CSR sparse matrix,
// two-layer GCN (Kipf & Welling 2017) and GraphSAGE-mean models with
// hand-written backpropagation on gonum, Adam, early stopping, chronological
// splits, metrics and non-graph baselines.
//
// Everything is deterministic for a given Config.Seed: random draws come from
// one math/rand/v2 PCG in a fixed order, and the parallel sparse products
// split work by rows so each output element is summed in the same order
// whatever GOMAXPROCS is.
//
// The package has no I/O beyond JSON (de)serialisation of a Model; the service
// feeds it a Graph and persists what it returns.
package gnn
