"""Prometheus metrics shared by every process, and the request-latency middleware."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_LATENCY = Histogram(
    "o2o_http_request_duration_seconds",
    "HTTP request latency by route template and status",
    ["method", "route", "status"],
)
WS_CONNECTIONS = Gauge("o2o_websocket_connections", "Open WebSocket connections", ["channel"])
DISPATCH_CYCLE_SECONDS = Histogram("o2o_dispatch_cycle_seconds", "Dispatch cycle wall time", ["zone"])
QUEUE_DEPTH = Gauge("o2o_queue_depth", "Messages waiting in a Celery queue", ["queue"])
OUTBOX_PUBLISHED = Counter("o2o_outbox_published_total", "Outbox events published to Redis")


class RequestMetrics:
    """Records latency per *route template* (not raw path) so that ids do not explode cardinality."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            REQUEST_LATENCY.labels(scope["method"], template, str(status)).observe(time.perf_counter() - started)
