"""`GET /metrics` in Prometheus' text format (prometheus-client), off unless `[metrics] enabled`.

Why a collector that reads at scrape time instead of metric objects bumped everywhere: the hot paths (accept,
dispatch, send) already keep plain counters (a dict increment per event costs nothing next to the SQLite write),
and the queue gauges are indexed queries. One per-server CollectorRegistry — never the library's global one — so
tests and several servers in one process do not see each other's numbers.

Exposed (all prefixed salespulse_):
- events_accepted_total{platform,type}, events_processed_total{platform,type}, events_failed_total
- inbox_pending, inbox_oldest_pending_age_seconds
- outbox_rows{platform,status=pending|dead}, outbox_sent_total{platform}, outbox_dead_total{platform}
- ack_latency_seconds{platform} (histogram of callback handling time, from the first byte read to the answer)
- refused_requests_total{platform,reason}
- scheduler_lag_seconds{job} (how late the last tick of each job was emitted)
- deferred_pending (charts, simulations, transcription jobs waiting), deferred_pending_jobs{job} (the speech queue
  is job="voice.transcribe"), speech_stage_seconds_total{stage} and speech_stage_runs_total{stage}, rule_pack_version
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from store import operations

ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CALLBACK_PREFIXES = ("wecom", "dingtalk", "feishu", "telephony", "stores")


class RuntimeCollector:
    """Reads the runtime's counters and the store's queues when Prometheus scrapes."""

    def __init__(self, runtime: Any, accepted: Counter, refused: Callable[[], dict[tuple[str, str], int]]) -> None:
        self.runtime = runtime
        self.accepted = accepted
        self.refused = refused

    def collect(self) -> Iterator[Metric]:
        rt = self.runtime
        store = rt.store
        now = rt.clock.now_ms()
        accepted = CounterMetricFamily("salespulse_events_accepted", "Verified events stored in the inbox",
                                       labels=["platform", "type"])
        for (platform, kind), n in sorted(self.accepted.items()):
            accepted.add_metric([platform, kind], n)
        yield accepted
        processed = CounterMetricFamily("salespulse_events_processed", "Inbox rows dispatched to the handlers",
                                        labels=["platform", "type"])
        for (platform, kind), n in sorted(rt.dispatcher.by_type.items()):
            processed.add_metric([platform, kind], n)
        yield processed
        yield CounterMetricFamily("salespulse_events_failed", "Inbox rows that failed in a handler",
                                  value=rt.dispatcher.failed)
        yield GaugeMetricFamily("salespulse_inbox_pending", "Inbox rows waiting to be processed",
                                value=operations.pending_inbox_count(store))
        oldest = operations.oldest_pending_inbox_ms(store)
        yield GaugeMetricFamily("salespulse_inbox_oldest_pending_age_seconds", "Age of the oldest pending inbox row",
                                value=max(0.0, (now - oldest) / 1000) if oldest is not None else 0.0)
        rows = GaugeMetricFamily("salespulse_outbox_rows", "Replies waiting or given up", labels=["platform", "status"])
        for (platform, status), n in sorted(operations.outbox_by_platform(store).items()):
            rows.add_metric([platform, status], n)
        yield rows
        sent = CounterMetricFamily("salespulse_outbox_sent", "Replies delivered", labels=["platform"])
        for platform, n in sorted(rt.sender.sent_by.items()):
            sent.add_metric([platform], n)
        yield sent
        dead = CounterMetricFamily("salespulse_outbox_dead", "Replies parked as dead", labels=["platform"])
        for platform, n in sorted(rt.sender.dead_by.items()):
            dead.add_metric([platform], n)
        yield dead
        refused = CounterMetricFamily("salespulse_refused_requests", "Callbacks refused (signature, replay, size…)",
                                      labels=["platform", "reason"])
        for (platform, reason), n in sorted(self.refused().items()):
            refused.add_metric([platform, reason], n)
        yield refused
        lag = GaugeMetricFamily("salespulse_scheduler_lag_seconds", "How late the last tick of a job was emitted",
                                labels=["job"])
        for job, ms in sorted(rt.scheduler.lag_ms.items()):
            lag.add_metric([job], ms / 1000)
        yield lag
        yield GaugeMetricFamily("salespulse_deferred_pending", "Deferred jobs (charts, transcription…) waiting",
                                value=operations.deferred_pending(store))
        yield GaugeMetricFamily("salespulse_rule_pack_version", "Version of the loaded rule packs",
                                value=rt.rule_pack_version())
        queued = GaugeMetricFamily("salespulse_deferred_pending_jobs", "Deferred jobs waiting, per job (speech: "
                                   "voice.transcribe)", labels=["job"])
        for job, n in sorted(operations.deferred_pending_by_job(store).items()):
            queued.add_metric([job], n)
        yield queued
        voice = rt.services.extras.get("voice")
        if voice is not None:
            seconds = CounterMetricFamily("salespulse_speech_stage_seconds", "Time voice notes spent per pipeline "
                                          "stage (decode, vad, asr)", labels=["stage"])
            runs = CounterMetricFamily("salespulse_speech_stage_runs", "Voice notes through each pipeline stage",
                                       labels=["stage"])
            for stage in sorted(voice.stage_runs):
                seconds.add_metric([stage], voice.stage_ms[stage] / 1000)
                runs.add_metric([stage], voice.stage_runs[stage])
            yield seconds
            yield runs


class Metrics:
    """The registry of one server, its /metrics handler and the ack-latency middleware."""

    def __init__(self, runtime: Any, accepted: Counter,
                 refused: Callable[[], dict[tuple[str, str], int]] = dict, token: str = "") -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(RuntimeCollector(runtime, accepted, refused))
        self.ack_latency = Histogram("salespulse_ack_latency_seconds", "Time to answer a platform callback",
                                     ["platform"], buckets=ACK_BUCKETS, registry=self.registry)
        self.token = token

    async def handle(self, request: web.Request) -> web.Response:
        if self.token and request.headers.get("Authorization", "") != f"Bearer {self.token}":
            return web.Response(status=401, text="unauthorized")
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def middleware(self):
        histogram = self.ack_latency

        @web.middleware
        async def timed(request: web.Request, handler):
            first = request.path.strip("/").split("/", 1)[0]
            if first not in CALLBACK_PREFIXES:
                return await handler(request)
            started = time.perf_counter()
            try:
                return await handler(request)
            finally:
                histogram.labels(first).observe(time.perf_counter() - started)

        return timed
