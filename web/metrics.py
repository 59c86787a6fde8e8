"""GET /metrics: Prometheus text format; the figures are cheap at any table size (see
dispatch.metrics_figures): running totals per process plus small indexed queries."""

from collections.abc import Iterator
from datetime import datetime

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from dispatch.metrics_figures import LATENCY_BUCKETS, MetricsSnapshot
from web.context import context_of


class SnapshotCollector(Collector):
    """Exposes one snapshot of the database's figures."""

    def __init__(self, snapshot: MetricsSnapshot, now: datetime) -> None:
        self.snapshot = snapshot
        self.now = now

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot
        cases = GaugeMetricFamily("gridgov_cases", "Cases by status", labels=["status"])
        for status, count in sorted(s.cases_by_status.items()):
            cases.add_metric([status], count)
        yield cases
        intake = CounterMetricFamily(
            "gridgov_cases_reported", "Cases reported, by source", labels=["source"]
        )
        for source, count in sorted(s.cases_by_source.items()):
            intake.add_metric([source], count)
        yield intake
        escalations = CounterMetricFamily(
            "gridgov_escalations",
            "Reminders and escalations fired by the sweep",
            labels=["action"],
        )
        for action in ("remind", "escalate"):
            escalations.add_metric([action], s.escalation_events.get(action, 0))
        yield escalations
        outbox = GaugeMetricFamily(
            "gridgov_outbox_messages", "Outbox messages by status", labels=["status"]
        )
        for status, count in sorted(s.outbox_by_status.items()):
            outbox.add_metric([status], count)
        yield outbox
        age = (self.now - s.oldest_pending_outbox).total_seconds() if s.oldest_pending_outbox else 0
        yield GaugeMetricFamily(
            "gridgov_outbox_oldest_pending_seconds",
            "Age of the oldest undelivered outbox message",
            value=max(age, 0.0),
        )
        latency = s.latency
        yield HistogramMetricFamily(
            "gridgov_dispatch_latency_seconds",
            "Time from report to first dispatch",
            buckets=[
                *((str(b), n) for b, n in zip(LATENCY_BUCKETS, latency.buckets, strict=True)),
                ("+Inf", latency.count),
            ],
            sum_value=latency.total,
        )


async def metrics(request: web.Request) -> web.Response:
    ctx = context_of(request)
    now = ctx.now()
    async with ctx.sessions() as session:
        snapshot = await ctx.metrics.snapshot(session, now)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot, now))
    return web.Response(
        body=generate_latest(registry),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )
