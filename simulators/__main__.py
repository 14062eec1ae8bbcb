"""Command line for the simulators.

    python -m simulators serve [--host 127.0.0.1] [--ajera-port 8701] [--crm-port 8702] [--only ajera|crm]
                               [--seed 42] [--data-dir DIR | --memory] [--firms N --contacts N ...]
                               [--latency-ms X] [--error-rate X] [--timeout-rate X] [--throttle-rps X]
                               [--ready-file PATH]
    python -m simulators generate [--seed 42] [--out FILE.json] [--firms N ...]

``serve`` generates the seed world, starts the Ajera and/or Vantagepoint simulator in the foreground, prints
their base URLs, optionally writes a JSON ready-file ``{"ajera_url": ..., "crm_url": ...}`` (removed again
on exit) and runs until SIGINT/SIGTERM. Seed data is loaded only into an empty store, so with ``--data-dir``
a restarted simulator keeps its state. Without ``--data-dir`` the stores live in memory.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from simulators.datagen import Sizes, World, describe, generate

SIZE_FIELDS = ("firms", "contacts", "employees", "vendors", "projects", "templates")


def _add_size_args(parser: argparse.ArgumentParser) -> None:
    defaults = Sizes()
    parser.add_argument("--seed", type=int, default=42, help="data generator seed (default 42)")
    for name in SIZE_FIELDS:
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name), metavar="N",
                            help=f"{name} per system (default {getattr(defaults, name)})")


def _sizes(args: argparse.Namespace) -> Sizes:
    values = {name: getattr(args, name) for name in SIZE_FIELDS}
    for name, value in values.items():
        if value < 0:
            raise SystemExit(f"--{name} must be >= 0")
    return Sizes(**values)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the simulators in the foreground")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--ajera-port", type=int, default=8701)
    serve.add_argument("--crm-port", type=int, default=8702)
    serve.add_argument("--only", choices=["ajera", "crm"], help="start only one simulator")
    store = serve.add_mutually_exclusive_group()
    store.add_argument("--data-dir", type=Path, help="keep each store in a SQLite file in DIR")
    store.add_argument("--memory", action="store_true", help="keep the stores in memory (the default)")
    serve.add_argument("--latency-ms", type=float, default=0.0)
    serve.add_argument("--error-rate", type=float, default=0.0)
    serve.add_argument("--timeout-rate", type=float, default=0.0)
    serve.add_argument("--hang-seconds", type=float, default=None)
    serve.add_argument("--throttle-rps", type=float, default=None)
    serve.add_argument("--fault-seed", type=int, default=0)
    serve.add_argument("--ajera-success-code", type=int, choices=[200, 0], default=200,
                       help="ResponseCode of a successful Ajera call (tenants answer 200 or 0)")
    serve.add_argument("--ready-file", type=Path, help="write {ajera_url, crm_url} here once both answer")
    _add_size_args(serve)

    gen = sub.add_parser("generate", help="write the generated seed world as JSON")
    gen.add_argument("--out", type=Path, help="output file (default: stdout)")
    gen.add_argument("--indent", type=int, default=None)
    _add_size_args(gen)
    return parser


def _faults(args: argparse.Namespace) -> Any:
    from simulators.faults import FaultConfig

    config = FaultConfig(latency_ms=args.latency_ms, error_rate=args.error_rate, timeout_rate=args.timeout_rate,
                         throttle_rps=args.throttle_rps, seed=args.fault_seed)
    if args.hang_seconds is not None:
        config.hang_seconds = args.hang_seconds
    return config


def _db_paths(data_dir: Path | None) -> dict[str, str]:
    if not data_dir:
        return {"ajera": ":memory:", "crm": ":memory:"}
    data_dir.mkdir(parents=True, exist_ok=True)
    return {"ajera": str(data_dir / "ajera.sqlite3"), "crm": str(data_dir / "vantagepoint.sqlite3")}


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return stop


def _start(args: argparse.Namespace, world: World, started: list[Any]) -> dict[str, Any]:
    """Starts the chosen simulators (appending each to ``started``); returns the ready file's content."""
    from simulators import harness

    db_paths = _db_paths(args.data_dir)
    ready: dict[str, Any] = {}
    if args.only in (None, "ajera"):
        ajera = harness.start("ajera", seed=world.ajera, settings={"success_code": args.ajera_success_code},
                              faults=_faults(args), db_path=db_paths["ajera"], host=args.host, port=args.ajera_port)
        started.append(ajera)
        ready.update(ajera_url=harness.ajera_api_url(ajera.url), ajera_base_url=ajera.url)
        print(f"Ajera API:        {ready['ajera_url']}", flush=True)
    if args.only in (None, "crm"):
        crm = harness.start("crm", seed=world.crm, faults=_faults(args), db_path=db_paths["crm"], host=args.host,
                            port=args.crm_port)
        started.append(crm)
        ready.update(crm_url=harness.crm_api_url(crm.url), crm_base_url=crm.url)
        print(f"Vantagepoint API: {ready['crm_url']}", flush=True)
    ready.update(seed=args.seed, pid=os.getpid())
    return ready


def serve(args: argparse.Namespace) -> int:
    from simulators import harness

    started_at = time.monotonic()
    world = generate(args.seed, _sizes(args))
    counts = describe(world)
    print(f"seed {args.seed}: generated {sum(counts.values())} records in {time.monotonic() - started_at:.2f}s",
          flush=True)
    stop = _stop_on_signals()
    started: list[harness.SimulatorHandle] = []
    try:
        ready = _start(args, world, started)
        if args.ready_file:
            harness.write_ready(args.ready_file, ready)
        print("simulators ready; Ctrl-C to stop", flush=True)
        while not stop.is_set():
            if not all(s.alive() for s in started):
                print("a simulator stopped unexpectedly", file=sys.stderr, flush=True)
                return 1
            stop.wait(0.5)
        return 0
    finally:
        for sim in reversed(started):
            sim.stop()
        if args.ready_file:
            harness.remove_ready(args.ready_file)
        if started:
            print("simulators stopped", flush=True)


def generate_cmd(args: argparse.Namespace) -> int:
    world = generate(args.seed, _sizes(args))
    text = world.to_json(indent=args.indent)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
        counts = describe(world)
        print(f"wrote {args.out} ({sum(counts.values())} records: "
              + ", ".join(f"{k}={v}" for k, v in counts.items()) + ")", file=sys.stderr)
    else:
        sys.stdout.write(text + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return generate_cmd(args)


if __name__ == "__main__":
    sys.exit(main())
