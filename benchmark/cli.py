"""`make benchmark` (``python -m benchmark``): the end-to-end runs and the planning compute at one size.

    python -m benchmark [--size S|M|L|tiny] [--throttle both|on|off] [--airflow on|off]
                        [--compute 10000,100000,1000000 | none] [--out-dir var/benchmark] [--seed 7]

Writes ``<out-dir>/benchmark-<size>.json`` (to compare commits) and ``<out-dir>/benchmark.png`` (time per
record against size, from every ``benchmark-*.json`` in the directory). Figures only: nothing here passes or
fails on speed.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmark import compute, report
from benchmark.runs import AJERA_LIMIT_RPS, AirflowFigures, Pass, RunFigures
from benchmark.sims import ROOT

BASE = {"firms": 1000, "contacts": 3000, "employees": 300, "vendors": 300, "projects": 2000}
SIZES = {
    "tiny": {"firms": 20, "contacts": 40, "employees": 6, "vendors": 6, "projects": 20},
    "S": BASE,
    "M": {k: v * 10 for k, v in BASE.items()},
    "L": {k: v * 100 for k, v in BASE.items()},
}
DEFAULT_COMPUTE = "10000,100000,1000000"


def _git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmark", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="S", choices=list(SIZES), help="world size (default S)")
    parser.add_argument("--throttle", default="both", choices=("both", "on", "off"),
                        help=f"run with the Ajera simulator throttled at {AJERA_LIMIT_RPS:g} req/s, without, or both")
    parser.add_argument("--client-rps", type=float, default=AJERA_LIMIT_RPS,
                        help="the Ajera client's own rate limit in throttled runs (default: the throttle)")
    parser.add_argument("--airflow", default="on", choices=("on", "off"), help="the quiet run through dag.test()")
    parser.add_argument("--compute", default=DEFAULT_COMPUTE,
                        help="records per side for the planning compute, comma-separated, or 'none'")
    parser.add_argument("--compute-parts", default=",".join(compute.PARTS), help=",".join(compute.PARTS))
    parser.add_argument("--edit-share", type=float, default=0.01, help="share of mapped records edited per side")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out-dir", type=Path, default=ROOT / "var" / "benchmark")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (databases, logs)")
    return parser


def _warm_up() -> None:
    """Great Expectations' import and context are paid once per process, before any figure; an Airflow worker
    pays them once per process too (see the Airflow figures for what a run through Airflow costs)."""
    from include.sync import expectations

    started = time.perf_counter()
    expectations.warm_up()
    print(f"  warm-up (Great Expectations import and context, not in any figure): "
          f"{time.perf_counter() - started:.1f} s", flush=True)


def _sync_runs(args: argparse.Namespace, sizes: dict[str, int],
               workdir: Path) -> tuple[list[RunFigures], list[AirflowFigures]]:
    throttles = {"both": [None, AJERA_LIMIT_RPS], "on": [AJERA_LIMIT_RPS], "off": [None]}[args.throttle]
    runs: list[RunFigures] = []
    airflow: list[AirflowFigures] = []
    for throttle in throttles:
        figs, af = Pass(args.size, sizes, throttle, args.seed, workdir, args.client_rps, args.edit_share).run(
            airflow=args.airflow == "on" and throttle is None, progress=lambda m: print(m, flush=True))
        runs.extend(figs)
        if af:
            airflow.append(af)
    if runs:
        print(report.runs_table(runs), flush=True)
        print(report.methods_table(runs), flush=True)
        print(report.timelines(runs), flush=True)
    if airflow:
        print(report.airflow_table(airflow), flush=True)
    return runs, airflow


def _compute(args: argparse.Namespace) -> list[dict[str, Any]]:
    counts = [] if args.compute == "none" else [int(n) for n in args.compute.split(",") if n.strip()]
    parts = [p for p in args.compute_parts.split(",") if p]
    results = []
    for n in counts:
        for part in parts:
            print(f"  planning compute: {part} at {n:,} records per side ...", flush=True)
            results.append(compute.measure_in_subprocess(part, n, args.seed))
    if results:
        print(report.compute_table(results), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = dict(SIZES[args.size], templates=3)
    workdir = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    commit = _git_commit()  # the code that ran, not the HEAD of a checkout that moved on during a long run
    print(f"Sync benchmark, size {args.size}: {', '.join(f'{k} {v}' for k, v in sizes.items())} per system; "
          f"seed {args.seed}; edits {args.edit_share:.0%} per side; commit {commit}; "
          f"{platform.python_implementation()} {platform.python_version()}", flush=True)
    started = time.perf_counter()
    _warm_up()
    try:
        runs, airflow = _sync_runs(args, sizes, workdir)
        results = _compute(args)
        out = args.out_dir / f"benchmark-{args.size}.json"
        report.write_json(out, {
            "size": args.size, "sizes": sizes, "seed": args.seed, "commit": commit,
            "edit_share": args.edit_share, "ajera_limit_rps": AJERA_LIMIT_RPS, "client_rps": args.client_rps,
            "runs": [f.as_json() for f in runs],
            "airflow": [{**f.__dict__, "ratio": f.ratio, "sync_in_airflow_s": f.sync_in_airflow_s} for f in airflow],
            "compute": results,
        })
        png = args.out_dir / "benchmark.png"
        report.plot(png, args.out_dir)
        print(f"\nfigures: {out}\nplot: {png}\n(total {time.perf_counter() - started:.0f} s)", flush=True)
        return 0
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
