"""Tables on stdout, the JSON file and the PNG plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmark.runs import AJERA_LIMIT_RPS, RUNS, AirflowFigures, RunFigures

SIZE_ORDER = ("tiny", "S", "M", "L")


def table(headers: list[str], rows: list[list[str]], title: str | None = None) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(headers, widths)))
    out = ([title] if title else []) + [line, "-" * len(line)]
    for row in rows:
        out.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(out)


def runs_table(figs: list[RunFigures]) -> str:
    rows = []
    for f in figs:
        rows.append([
            f"{f.size} {'9 req/s' if f.throttle_rps else 'off'} {f.run}", f"{f.wall_s:.2f}", str(f.staged),
            str(f.synced), f"{f.synced_per_s:,.0f}", str(f.ajera_calls), str(f.crm_calls), str(f.floor_calls),
            f"{f.calls_over_floor:.2f}", f"{f.floor_seconds:.1f}",
            f"{f.wall_over_floor_time:.2f}" if f.throttle_rps else "-", str(f.throttled),
            f"{f.peak_rss_mib:.0f} (+{f.rss_added_mib:.0f})", "yes" if f.completed else "NO",
        ])
    return table(["run (size, throttle, run)", "wall s", "read", "synced", "synced/s", "Ajera calls", "CRM calls",
                  "floor calls", "calls/floor", "floor s", "wall/floor s", "429s", "peak RSS MiB", "done"], rows,
                 f"\n== sync runs (floor s = floor calls / {AJERA_LIMIT_RPS:g}; wall/floor s for throttled runs) ==")


def methods_table(figs: list[RunFigures]) -> str:
    methods = sorted({m for f in figs for m in f.ajera_by_method})
    rows = [[m, *(f"{f.ajera_by_method[m][0]}/{f.ajera_by_method[m][1]}" if m in f.ajera_by_method else "-"
                  for f in figs)] for m in methods]
    headers = ["Ajera method: calls/floor", *(f"{'thr' if f.throttle_rps else 'off'} {f.run}" for f in figs)]
    return table(headers, rows, "\nAjera calls by method against the floor:")


def timelines(figs: list[RunFigures]) -> str:
    """Where the time of each throttled first run went: request rates per slice, and the steps started."""
    out = []
    for f in figs:
        if f.throttle_rps and f.run == "first" and f.timeline:
            out.append(f"\nTimeline of {f.size} {f.run} run at {f.throttle_rps:g} req/s ({f.wall_s:.0f} s):")
            out.extend(f"  {line}" for line in f.timeline)
    return "\n".join(out)


def airflow_table(figs: list[AirflowFigures]) -> str:
    rows = [[f.size, f"{f.in_process_s:.2f}", f"{f.one_at_a_time_s:.2f}", f"{f.dag_test_s:.2f}", f"{f.ratio:.2f}x",
             f"{f.dag_test_s / f.one_at_a_time_s if f.one_at_a_time_s else 0:.2f}x", f"{f.floor_s:.2f}",
             f"{f.sync_in_airflow_s:.2f}", str(f.ajera_calls), str(f.crm_calls), str(f.tasks), f.state,
             f"{f.migrate_s:.0f}"] for f in figs]
    return table(["size", "in-process quiet s", "one step at a time s", "dag.test() quiet s", "ratio",
                  "ratio to one at a time", "Airflow floor s", "less floor s", "Ajera calls", "CRM calls", "tasks run",
                  "state", "db migrate s (apart)"],
                 rows, "\n== quiet run through Airflow beside in-process (dag.test() runs one task at a time; the "
                       "floor: as many no-op tasks with the same params) ==")


def compute_table(results: list[dict[str, Any]]) -> str:
    rows = [[r["part"], f"{r['n']:,}", f"{r['seconds']:.2f}", f"{r['us_per_record']:.1f}",
             f"{r.get('cpu_seconds', 0.0):.2f}", f"{1e6 * r.get('cpu_seconds', 0.0) / r['n']:.1f}",
             f"{r['peak_rss_mib']:.0f}", f"{r['compute_added_mib']:.0f}", r.get("note", "")] for r in results]
    return table(["planning part", "records/side", "wall s", "wall µs/record", "CPU s", "CPU µs/record",
                  "peak RSS MiB", "added by compute MiB", "note"], rows,
                 "\n== planning compute alone (one fresh process per figure; CPU time is what a shared machine "
                 "cannot inflate) ==")


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def plot(path: Path, json_dir: Path) -> None:
    """µs per record against size: planning compute (left) and the sync runs of every size whose JSON is in
    ``json_dir`` (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = [json.loads(p.read_text()) for p in sorted(json_dir.glob("benchmark-*.json"))
               if not p.name.endswith("-tiny.json") or len(list(json_dir.glob("benchmark-*.json"))) == 1]
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 4.5))
    compute = [r for res in results for r in res.get("compute", [])]
    for part in sorted({r["part"] for r in compute}):
        points = sorted({r["n"]: 1e6 * r.get("cpu_seconds", r["seconds"]) / r["n"]
                         for r in compute if r["part"] == part}.items())
        left.plot([n for n, _ in points], [v for _, v in points], marker="o", label=part)
    left.set(xscale="log", yscale="log", xlabel="records per side", ylabel="CPU µs per record",
             title="planning compute")
    left.legend()
    runs = [r for res in results for r in res.get("runs", [])]
    for throttle in (None, AJERA_LIMIT_RPS):
        for run in RUNS:
            points = sorted((SIZE_ORDER.index(r["size"]), 1e6 * r["wall_s"] / max(1, r["staged"]))
                            for r in runs if r["run"] == run and r["throttle_rps"] == throttle)
            if points:
                right.plot([p[0] for p in points], [p[1] for p in points], marker="o",
                           label=f"{run}, Ajera {'9 req/s' if throttle else 'unthrottled'}")
    right.set_xticks(range(len(SIZE_ORDER)), SIZE_ORDER)
    right.set(yscale="log", xlabel="size", ylabel="µs of wall time per record read (both systems)",
              title="sync runs")
    right.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: never over a point
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
