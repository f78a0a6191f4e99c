"""Counters and delivery-latency histograms of producer processes, and the progress log."""

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

# Log-spaced latency buckets: 100 per decade from 1 µs to 1000 s, so a percentile read
# from the histogram is within 2.3% of the true value. Bucket 0 counts everything below
# 1 µs and the last bucket everything from 1000 s on.
BUCKETS_PER_DECADE = 100
LOWEST_NS = 1_000
DECADES = 9
BUCKETS = BUCKETS_PER_DECADE * DECADES + 2


class LatencyHistogram:
    """Delivery latencies in nanoseconds, counted in log-spaced buckets."""

    def __init__(self, counts: npt.NDArray[np.int64] | None = None, max_ns: int = 0) -> None:
        self.counts = np.zeros(BUCKETS, dtype=np.int64) if counts is None else counts.copy()
        self.max_ns = max_ns

    def add(self, latencies_ns: npt.NDArray[np.int64]) -> None:
        if len(latencies_ns) == 0:
            return
        scaled = np.log10(np.maximum(latencies_ns, 1) / LOWEST_NS) * BUCKETS_PER_DECADE
        index = np.clip(np.floor(scaled).astype(np.int64) + 1, 0, BUCKETS - 1)
        self.counts += np.bincount(index, minlength=BUCKETS)
        self.max_ns = max(self.max_ns, int(latencies_ns.max()))

    def merge(self, other: "LatencyHistogram") -> None:
        self.counts += other.counts
        self.max_ns = max(self.max_ns, other.max_ns)

    def minus(self, earlier: "LatencyHistogram") -> "LatencyHistogram":
        """Return the latencies added since `earlier`, a copy of this histogram taken before."""
        return LatencyHistogram(self.counts - earlier.counts, self.max_ns)

    @property
    def count(self) -> int:
        return int(self.counts.sum())

    def percentile_ms(self, percent: float) -> float | None:
        """Return the upper edge of the bucket holding the percentile, in ms; None if empty."""
        total = self.count
        if total == 0:
            return None
        rank = max(1, int(np.ceil(total * percent / 100.0)))
        index = int(np.searchsorted(np.cumsum(self.counts), rank))
        upper_ns = LOWEST_NS * 10 ** (index / BUCKETS_PER_DECADE)
        return float(min(upper_ns, self.max_ns) / 1e6)


@dataclass
class Counters:
    """Event counts of one producer process, or the sum over several."""

    sent: int = 0
    delivered: int = 0
    failed: int = 0
    rejected: int = 0
    dead_lettered: int = 0
    dead_letter_failed: int = 0
    unflushed: int = 0

    def add(self, other: "Counters") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def lost(self) -> int:
        """Events and dead-letter records not delivered: failed, or still queued at exit."""
        return self.failed + self.dead_letter_failed + self.unflushed


@dataclass
class ProcessReport:
    """Counters and latencies a producer process sends every progress interval and at its end."""

    process: int
    counters: Counters
    latency: LatencyHistogram
    target_rate: float | None
    elapsed_s: float
    final: bool = False
    peak_rss_bytes: int = 0
    error: str | None = None


@dataclass
class RunSummary:
    """Totals of a whole run over all processes."""

    counters: Counters
    latency: LatencyHistogram
    elapsed_s: float
    target_rate: float | None
    peak_rss_bytes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def events_per_s(self) -> float:
        return self.counters.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the totals as JSON-ready data: counts, rate and delivery latency in ms."""
        return {
            **asdict(self.counters),
            "lost": self.counters.lost,
            "elapsed_s": self.elapsed_s,
            "events_per_second": self.events_per_s,
            "target_rate": self.target_rate,
            "delivery_latency_ms": {
                "p50": self.latency.percentile_ms(50),
                "p99": self.latency.percentile_ms(99),
                "max": self.latency.max_ns / 1e6 if self.latency.count else None,
                "count": self.latency.count,
            },
            "peak_rss_bytes": self.peak_rss_bytes,
            "errors": self.errors,
        }

    def describe(self) -> str:
        c = self.counters
        return (
            f"sent {c.sent}, delivered {c.delivered}, failed {c.failed}, "
            f"not flushed {c.unflushed}, rejected {c.rejected} "
            f"(dead-lettered {c.dead_lettered}, dead-letter failures {c.dead_letter_failed}) "
            f"in {self.elapsed_s:.1f} s ({self.events_per_s:,.0f} events/s); delivery latency "
            f"p50 {_ms(self.latency.percentile_ms(50))}, p99 {_ms(self.latency.percentile_ms(99))}"
            f", max {_ms(self.latency.max_ns / 1e6 if self.latency.count else None)}; peak RSS "
            + ", ".join(f"{rss / 2**20:.0f} MB" for rss in self.peak_rss_bytes)
        )


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


class ProgressLog:
    """Merge the reports of all processes and log a progress line every interval."""

    def __init__(self, processes: int, interval_s: float, target_rate: float | None) -> None:
        self.interval_s = interval_s
        self.target_rate = target_rate
        self.latest: dict[int, ProcessReport] = {}
        self.processes = processes
        self.last_logged = time.monotonic()
        self.last_elapsed_s = 0.0
        self.last_sent = 0
        self.last_latency = LatencyHistogram()

    def update(self, report: ProcessReport) -> None:
        self.latest[report.process] = report
        now = time.monotonic()
        if not report.final and now - self.last_logged >= self.interval_s * 0.9:
            self.log_progress(now)

    def totals(self) -> tuple[Counters, LatencyHistogram]:
        counters, latency = Counters(), LatencyHistogram()
        for report in self.latest.values():
            counters.add(report.counters)
            latency.merge(report.latency)
        return counters, latency

    def log_progress(self, now: float) -> None:
        counters, latency = self.totals()
        window = latency.minus(self.last_latency)
        # Elapsed time counts from the start of the send schedule, after the input is ready.
        elapsed_s = max(report.elapsed_s for report in self.latest.values())
        rate = (counters.sent - self.last_sent) / max(elapsed_s - self.last_elapsed_s, 1e-9)
        target = "max" if self.target_rate is None else f"{self.target_rate:,.0f}"
        logger.info(
            "progress: target %s events/s, actual %s events/s, sent %d, delivered %d, "
            "failed %d, rejected %d, p99 delivery latency %s",
            target, f"{rate:,.0f}", counters.sent, counters.delivered, counters.failed,
            counters.rejected, _ms(window.percentile_ms(99)),
        )  # fmt: skip
        self.last_logged, self.last_elapsed_s = now, elapsed_s
        self.last_sent, self.last_latency = counters.sent, latency

    def summary(self) -> RunSummary:
        counters, latency = self.totals()
        reports = [self.latest[k] for k in sorted(self.latest)]
        return RunSummary(
            counters=counters,
            latency=latency,
            elapsed_s=max((r.elapsed_s for r in reports), default=0.0),
            target_rate=self.target_rate,
            peak_rss_bytes=[r.peak_rss_bytes for r in reports],
            errors=[f"process {r.process}: {r.error}" for r in reports if r.error],
        )
