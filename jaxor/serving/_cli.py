"""``jaxor serve-sim single``: simulate one worker under several admission policies, print a table, plot.

Example::

    jaxor serve-sim single --trace azure-conv --policy fcfs,sf,sorted-f,a-min --memory 16384 --n 2000
"""

from __future__ import annotations

import argparse
from pathlib import Path

TRACES = ("azure-conv", "azure-code", "arxiv", "synthetic")


def add_cli(subparsers) -> None:
    p = subparsers.add_parser("single", help="single-worker KV-cache scheduling: policies x one trace",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trace", default="azure-conv",
                   help=f"one of {', '.join(TRACES)} or a CSV path (Azure or Vidur schema); default %(default)s")
    p.add_argument("--policy", default="fcfs,sf,sorted-f,a-max,a-min,h-sf",
                   help="comma-separated: fcfs, sf (mc-sf), sorted-f, a-max, a-min, h-sf; default %(default)s")
    p.add_argument("--memory", type=int, default=16384, help="KV-cache capacity M in tokens")
    p.add_argument("--n", type=int, default=2000, help="requests per trace (a seeded random window)")
    p.add_argument("--traces", type=int, default=1, help="number of random windows (seeds seed..seed+k-1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--alpha", type=float, default=0.5, help="prediction quality l/u of the intervals (1 = exact)")
    p.add_argument("--max-batch", type=int, default=32, help="running slots K")
    p.add_argument("--window", type=int, default=16, help="candidate slots W")
    p.add_argument("--time-model", choices=("unit", "linear"), default="linear")
    p.add_argument("--round-s", type=float, default=None, help="seconds per round for timestamped traces")
    p.add_argument("--out", default="runs/serve-sim", help="folder for the plots and table (default %(default)s)")
    p.add_argument("--no-plots", action="store_true")
    p.set_defaults(func=_handler)


def _load(args):
    import jaxor.serving as sv

    kw = {} if args.round_s is None else {"round_s": args.round_s}
    if args.trace in ("azure-conv", "azure-code"):
        return sv.load_azure(args.trace, **kw)
    if args.trace == "arxiv":
        from jaxor.data import locate

        return sv.load_vidur(locate("serving/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv"), **kw)
    if args.trace == "synthetic":
        return sv.synthetic(args.seed, max(args.n, 1), prompt=(16, 512), output=(1, 512), rate=0.05)
    path = Path(args.trace)
    if not path.exists():
        raise ValueError(f"--trace {args.trace!r}: not one of {TRACES} and not a file")
    head = path.read_text().splitlines()[0]
    return sv.load_azure(path, **kw) if head.startswith("TIMESTAMP") else sv.load_vidur(path, **kw)


def _handler(args) -> int:
    import numpy as np

    import jaxor.serving as sv
    from jaxor.progress import Progress

    names = [s.strip() for s in args.policy.split(",") if s.strip()]
    try:
        pols = [sv.policy(n) for n in names]
        full = _load(args)
        n = min(args.n, full.n)
        trs = [sv.with_intervals(sv.random_window(full, args.seed + k, n), args.seed + k, args.alpha, memory=args.memory)
               for k in range(args.traces)]
        batch = sv.stack(trs)
        tm = sv.unit() if args.time_model == "unit" else sv.linear()
        for tr in trs:
            sv.validate(tr, args.memory)
    except ValueError as e:
        print(f"error: {e}")
        return 2
    bad = sorted({int(i) for tr in trs for i in sv.never_fit(tr, args.memory)})
    if bad:
        print(f"note: {len(bad)} request(s) can never fit in memory={args.memory} (prompt + output - 1 > M); "
              f"they are reported as rejected: request indices {bad[:20]}{' ...' if len(bad) > 20 else ''}")
    with Progress(desc="serve-sim epochs") as prog:
        roll = sv.simulate(batch, pols, memory=args.memory, max_batch=args.max_batch, window=args.window,
                           time_model=tm, record=not args.no_plots, progress=prog)
    summ = sv.summarize(roll, batch)
    unit = "rounds" if args.time_model == "unit" else "s"
    head = (f"| policy | mean latency (rounds) | mean latency ({unit}) | p99 latency ({unit}) | mean TTFT ({unit}) "
            f"| mean TPOT ({unit}) | throughput (tok/{unit}) | evictions | rejected | unfinished |")
    lines = [head, "|" + "---|" * 10]
    for j, name in enumerate(names):
        def m(key, j=j):
            return float(np.mean(summ[key][:, j]))
        lines.append(f"| {name} | {m('mean_latency'):.1f} | {m('mean_latency_s'):.4g} | {m('p99_latency_s'):.4g} "
                     f"| {m('mean_ttft_s'):.4g} | {m('mean_tpot_s'):.4g} | {m('throughput_tok_s'):.4g} "
                     f"| {int(np.sum(summ['evictions'][:, j]))} | {int(np.sum(summ['rejected'][:, j]))} "
                     f"| {int(np.sum(summ['unfinished'][:, j]))} |")
    table = "\n".join(lines)
    print(f"trace={args.trace} requests={n} traces={args.traces} M={args.memory} K={args.max_batch} "
          f"W={args.window} alpha={args.alpha} time={args.time_model}")
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(table + "\n")
    if not args.no_plots:
        for f in plot_rollout(roll, batch, names, out, unit=unit):
            print(f"wrote {f}")
    return 0


def plot_rollout(roll, batch, names, out: Path, *, unit: str = "s", lane: int = 0) -> list[Path]:
    """Latency CDFs, KV memory over time and queue length over time (trace ``lane``) as PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    files = []
    fig, ax = plt.subplots(figsize=(6, 4))
    for j, name in enumerate(names):
        ok = roll.completion[lane, j] >= 0
        lat = np.sort((roll.completion_time - roll.arrival_time)[lane, j][ok])
        ax.plot(lat, np.arange(1, lat.size + 1) / max(lat.size, 1), label=name)
    ax.set_xscale("log")
    ax.set_xlabel(f"end-to-end latency ({unit})")
    ax.set_ylabel("fraction of requests")
    ax.set_title("Latency CDF")
    ax.legend()
    fig.tight_layout()
    files.append(out / "latency_cdf.png")
    fig.savefig(files[-1], dpi=120)
    plt.close(fig)
    rec = roll.records
    for key, label, fname in (("kv", "KV-cache tokens in use", "kv_memory.png"),
                              ("queue", "requests waiting", "queue_length.png")):
        fig, ax = plt.subplots(figsize=(6, 4))
        for j, name in enumerate(names):
            v = rec["valid"][lane, j]
            ax.step(rec["clock"][lane, j][v], rec[key][lane, j][v], where="post", label=name, lw=0.8)
        ax.set_xlabel(f"time ({unit})")
        ax.set_ylabel(label)
        ax.set_title(f"{label} over time")
        ax.legend()
        fig.tight_layout()
        files.append(out / fname)
        fig.savefig(files[-1], dpi=120)
        plt.close(fig)
    return files
