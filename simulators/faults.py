"""Fault injection shared by both simulators.

Faults can be set at start-up (``FaultConfig``) or at run time through ``PUT /_sim/faults``. Rates use a
seeded random generator so a test that sets ``error_rate`` sees the same sequence every time; the
``*_next`` counters give fully deterministic one-off faults.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response


@dataclass
class FaultConfig:
    latency_ms: float = 0.0  # added to every API request
    error_rate: float = 0.0  # share of API requests answered with HTTP 503
    timeout_rate: float = 0.0  # share of API requests that hang for hang_seconds first
    hang_seconds: float = 30.0
    throttle_rps: float | None = None  # token bucket; requests over it get HTTP 429 + Retry-After
    fail_next: int = 0  # the next N API requests get HTTP 503
    hang_next: int = 0  # the next N API requests hang for hang_seconds, then are answered normally
    match: str | None = None  # if set, fail_next/hang_next apply only to requests whose "VERB /path" starts so
    seed: int = 0

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        for name, value in changes.items():
            setattr(self, name, value)


@dataclass
class _TokenBucket:
    rate: float
    capacity: float
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def take(self) -> float:
        """Take one token; return 0 if granted, else the seconds until one is free."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class FaultInjector:
    """Decides, per API request, whether to delay, hang, throttle or fail it; also counts requests."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.config = config or FaultConfig()
        self._lock = threading.Lock()
        self._rng = random.Random(self.config.seed)
        self._bucket: _TokenBucket | None = None
        self._bucket_rate: float | None = None
        self.stats: Counter[str] = Counter()

    def configure(self, changes: dict[str, Any]) -> None:
        with self._lock:
            self.config.update(changes)
            if "seed" in changes:
                self._rng = random.Random(self.config.seed)

    def count(self, name: str) -> None:
        with self._lock:
            self.stats[name] += 1
            self.stats["_total"] += 1

    def _decide(self, signature: str) -> tuple[float, str | None, float]:
        """Return (delay seconds, fault kind or None, retry-after seconds). Kind "hang" means: do the
        work, then answer ``delay`` seconds late (the write happened, the client sees a timeout)."""
        with self._lock:
            cfg = self.config
            delay = cfg.latency_ms / 1000.0
            targeted = cfg.match is None or signature.startswith(cfg.match)
            if cfg.throttle_rps:
                if self._bucket is None or self._bucket_rate != cfg.throttle_rps:
                    self._bucket = _TokenBucket(cfg.throttle_rps, max(1.0, cfg.throttle_rps))
                    self._bucket_rate = cfg.throttle_rps
                wait = self._bucket.take()
                if wait > 0:
                    self.stats["_throttled"] += 1
                    return delay, "throttle", wait
            if cfg.fail_next > 0 and targeted:
                cfg.fail_next -= 1
                self.stats["_injected_5xx"] += 1
                return delay, "error", 0.0
            if cfg.hang_next > 0 and targeted:
                cfg.hang_next -= 1
                self.stats["_injected_hang"] += 1
                return delay + cfg.hang_seconds, "hang", 0.0
            if cfg.error_rate and self._rng.random() < cfg.error_rate:
                self.stats["_injected_5xx"] += 1
                return delay, "error", 0.0
            if cfg.timeout_rate and self._rng.random() < cfg.timeout_rate:
                self.stats["_injected_hang"] += 1
                return delay + cfg.hang_seconds, "hang", 0.0
            return delay, None, 0.0

    async def apply(self, signature: str = "") -> tuple[Response | None, float]:
        """Run before an API request: sleep if needed; return (a fault response or None to proceed,
        seconds to hold the real answer back after the work is done)."""
        delay, kind, retry_after = self._decide(signature)
        if kind == "hang":
            return None, delay
        if delay:
            await asyncio.sleep(delay)
        if kind == "throttle":
            return JSONResponse(
                {"Message": "Too many requests"},
                status_code=429,
                headers={"Retry-After": f"{max(retry_after, 0.01):.3f}"},
            ), 0.0
        if kind == "error":
            return JSONResponse({"Message": "Service Unavailable (injected fault)"}, status_code=503), 0.0
        return None, 0.0


def admin_router(injector: FaultInjector, expire_sessions: Callable[[], int]) -> APIRouter:
    """``/_sim/*`` control endpoints. They are never subject to faults and never counted."""
    router = APIRouter(prefix="/_sim")

    @router.get("/faults")
    def get_faults() -> dict[str, Any]:
        return asdict(injector.config)

    @router.put("/faults")
    async def put_faults(request: Request) -> Response:
        try:
            injector.configure(await request.json())
        except ValueError as exc:
            return JSONResponse({"Message": str(exc)}, status_code=400)
        return JSONResponse(asdict(injector.config))

    @router.post("/expire-sessions")
    def expire() -> dict[str, int]:
        return {"expired": expire_sessions()}

    @router.get("/stats")
    def stats() -> dict[str, int]:
        return dict(injector.stats)

    @router.post("/stats/reset")
    def reset_stats() -> dict[str, int]:
        injector.stats.clear()
        return {}

    return router


def install(app: FastAPI, injector: FaultInjector, expire_sessions: Callable[[], int]) -> None:
    """Add the fault middleware (skipping ``/_sim``) and the admin endpoints to an app."""
    app.include_router(admin_router(injector, expire_sessions))

    @app.middleware("http")
    async def faults(request: Request, call_next):  # type: ignore[no-untyped-def]
        if request.url.path.startswith("/_sim"):
            return await call_next(request)
        fault, hold = await injector.apply(f"{request.method} {request.url.path}")
        if fault is not None:
            return fault
        response = await call_next(request)
        if hold:
            # The request was processed; only its answer is late, as when a server commits and then stalls.
            await asyncio.sleep(hold)
        return response
