#!/usr/bin/env python3
"""PyTorch Geometric reference for BenchmarkGCNEpoch (internal/gnn/bench_test.go).

Builds the same deterministic 100,000-node graph as the Go benchmark, trains
the same 2-layer GCN (hidden 16, dropout 0.5, Adam lr 0.01, weight decay 5e-4
on the first layer's weight only, 2 classes, every node in the loss) and
prints one JSON line with the median time of one training epoch
(forward + backward + Adam step, no evaluation pass).

    python3 scripts/pyg_reference.py --install   # venv in .cache/pyg (not CI)
    .cache/pyg/venv/bin/python scripts/pyg_reference.py --epochs 30

Paths are relative to the repository root's .cache/pyg.
"""
import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[3]
VENV = ROOT / ".cache" / "pyg" / "venv"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def install() -> None:
    """Create the venv and install torch (CPU wheels when reachable) and PyG."""
    subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    try:
        urllib.request.urlopen(CPU_INDEX + "/torch/", timeout=10)
        subprocess.check_call(pip + ["torch", "--index-url", CPU_INDEX])
    except OSError:
        print("cpu wheel index unreachable; installing torch from PyPI", file=sys.stderr)
        subprocess.check_call(pip + ["torch"])
    subprocess.check_call(pip + ["torch_geometric", "numpy"])
    print(f"installed into {VENV}; run with {VENV / 'bin' / 'python'}", file=sys.stderr)


def build_graph(n: int, f: int):
    """The formula graph of formulaGraph in bench_test.go."""
    import numpy as np
    import torch

    i = np.arange(n, dtype=np.int64)
    src = np.concatenate([i, i, i])
    dst = np.concatenate([(i + 1) % n, (i + 2) % n, (i * 7919 + 13) % n])
    keep = src != dst
    lo = np.minimum(src[keep], dst[keep])
    hi = np.maximum(src[keep], dst[keep])
    pairs = np.unique(lo * n + hi)
    lo, hi = pairs // n, pairs % n
    edge_index = torch.from_numpy(np.stack([np.concatenate([lo, hi]), np.concatenate([hi, lo])]))
    x = np.sin(0.001 * np.outer(i + 1, np.arange(1, f + 1)))
    # z-score on the training rows (all nodes), as gnn.Train does.
    std = x.std(axis=0)
    std[std == 0] = 1
    x = (x - x.mean(axis=0)) / std
    y = torch.from_numpy(i % 2)
    return torch.from_numpy(x), edge_index, y, len(pairs)


def run(args) -> None:
    import torch
    import torch.nn.functional as F
    from torch_geometric.nn import GCNConv

    torch.manual_seed(0)
    torch.set_num_threads(args.threads or torch.get_num_threads())
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    x, edge_index, y, edges = build_graph(args.nodes, 16)
    x = x.to(dtype)

    class GCN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            # cached=True: Â is normalised once, like gnn.NormalizedAdjacency.
            self.conv1 = GCNConv(16, 16, cached=True)
            self.conv2 = GCNConv(16, 2, cached=True)

        def forward(self, x, edge_index):
            x = F.dropout(x, p=0.5, training=self.training)
            x = F.relu(self.conv1(x, edge_index))
            x = F.dropout(x, p=0.5, training=self.training)
            return self.conv2(x, edge_index)

    model = GCN().to(dtype)
    opt = torch.optim.Adam([
        dict(params=[model.conv1.lin.weight], weight_decay=5e-4),
        dict(params=[model.conv1.bias, *model.conv2.parameters()], weight_decay=0),
    ], lr=0.01)
    model.train()
    times = []
    for epoch in range(args.warmup + args.epochs):
        start = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(model(x, edge_index), y)
        loss.backward()
        opt.step()
        if epoch >= args.warmup:
            times.append(time.perf_counter() - start)
    times.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.bench_line:
        # Go's benchmark format, so benchreport puts PyG beside the Go epoch
        # as its baseline: one op is one epoch, the median of the timed ones.
        print(f"BenchmarkGCNEpoch/baseline=pyg-{args.dtype}/nodes={args.nodes} {args.epochs} "
              f"{times[len(times) // 2] * 1e9:.0f} ns/op {peak:.1f} peak-MiB")
        return
    print(json.dumps({
        "median_epoch_s": times[len(times) // 2],
        "min_epoch_s": times[0],
        "epochs": args.epochs,
        "nodes": args.nodes,
        "edges": edges,
        "dtype": args.dtype,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "peak_rss_mib": peak,
        "final_loss": float(loss),
    }))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--install", action="store_true", help="create the venv under .cache/pyg and exit")
    p.add_argument("--nodes", type=int, default=100_000)
    p.add_argument("--epochs", type=int, default=30, help="timed epochs")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="float64 matches the Go code; float32 is PyG's usual setting")
    p.add_argument("--bench-line", action="store_true",
                   help="print one line in Go's benchmark format (for make bench) instead of JSON")
    args = p.parse_args()
    if args.install:
        install()
        return
    run(args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
