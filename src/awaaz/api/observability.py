"""Request ids, access logs and Prometheus metrics (README "Observability").

:class:`RequestContextMiddleware` gives each request an id (the client's ``X-Request-ID`` when it is
sane, else a new one), returns it as ``X-Request-ID``, logs one ``awaaz.access`` record per request and
counts it. :class:`Metrics` holds the app's own registry, served at ``/metrics``: counters and histograms
updated as work happens, and gauges read from the service when Prometheus scrapes.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from awaaz import logs

access_log = logging.getLogger("awaaz.access")

INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
RTF_BUCKETS = (0.02, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5)


class Metrics:
    """The app's instruments, in a registry of its own (several apps may live in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "awaaz_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "awaaz_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by route template.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.audio = Counter(
            "awaaz_audio_seconds",
            "Seconds of audio transcribed, by kind (file: requests and jobs in this process; stream).",
            ["kind"],
            registry=self.registry,
        )
        self.rtf = Histogram(
            "awaaz_transcription_rtf",
            "Real-time factor of file transcriptions (processing seconds per audio second).",
            buckets=RTF_BUCKETS,
            registry=self.registry,
        )
        self.streams = Counter(
            "awaaz_streams", "Live streams opened, by protocol.", ["protocol"], registry=self.registry
        )

    def transcribed(self, audio_s: float, elapsed_s: float) -> None:
        """A file transcription finished (an observer of the service)."""
        self.audio.labels("file").inc(max(0.0, audio_s))
        if audio_s > 0:
            self.rtf.observe(elapsed_s / audio_s)

    def watch(self, read: Callable[[], dict[str, Any]]) -> None:
        """Report the gauges ``read`` returns at each scrape (see :class:`_StateCollector`)."""
        self.registry.register(_StateCollector(read))


class _StateCollector(Collector):
    """Gauges read from the running service when scraped: admission, models, streams, jobs."""

    def __init__(self, read: Callable[[], dict[str, Any]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        state = self.read()
        yield GaugeMetricFamily(
            "awaaz_transcriptions_running", "File transcriptions running now.", value=state["running"]
        )
        yield GaugeMetricFamily(
            "awaaz_transcriptions_waiting", "File transcriptions waiting for a slot.", value=state["waiting"]
        )
        yield GaugeMetricFamily("awaaz_streams_open", "Live streams open now.", value=state["streams"])
        loaded = GaugeMetricFamily("awaaz_model_loaded", "1 for each model in memory.", labels=["model"])
        for model in state["models"]:
            loaded.add_metric([model], 1)
        yield loaded
        yield GaugeMetricFamily(
            "awaaz_default_model_ready", "1 once the default model is loaded.", value=state["ready"]
        )
        tally = state["jobs"]
        depth = GaugeMetricFamily("awaaz_jobs", "Jobs queued or running now.", labels=["status"])
        outcomes = CounterMetricFamily("awaaz_job_outcomes", "Jobs ended, by status.", labels=["status"])
        for status, count in tally.items():
            (depth if status in ("queued", "running") else outcomes).add_metric([status], count)
        yield depth
        yield outcomes


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    return "unmatched"  # 404s, and requests answered before routing (401, 413...): bounded labels


class RequestContextMiddleware:
    """Request id, access log record and request metrics for each HTTP request and WebSocket."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if INCOMING_ID.match(incoming) else uuid.uuid4().hex
        token = logs.request_id.set(rid)
        started = time.perf_counter()
        status = 0

        async def tagged_send(message: Message) -> None:
            nonlocal status
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            elif message["type"] == "websocket.accept":
                status = 101
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        finally:
            elapsed = time.perf_counter() - started
            method = scope.get("method", "WS")
            route = _route(scope)
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(elapsed)
            access_log.info(
                "%s %s %s %.0f ms",
                method,
                scope.get("path", ""),
                status,
                elapsed * 1000,
                extra={
                    "method": method,
                    "path": scope.get("path", ""),  # never the query string: it may hold an api_key
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                    "caller": scope.get("state", {}).get("caller"),
                },
            )
            logs.request_id.reset(token)
