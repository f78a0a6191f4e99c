"""The decisions of the end-to-end benchmark, apart from the processes so they can be tested.

A step offers one rate for a warm-up and a measured interval. It sustained that rate
unless, at the end of the measured interval, one of these holds:

- the producer sent less than `min_rate_fraction` of the offered rate (it fell behind);
- ClickHouse rows trail the events in the flights topic by more than `rate * lag_limit_s` events;
- the job's lag (flights end offsets minus flights_enriched end offsets) grew during the
  measured interval by more than `rate * lag_limit_s` events.

A step passes when it sustained its rate and both p99 freshness and p99 dashboard query
latency (ingest running) are under the target. The benchmark stops after the first step
that did not sustain its rate, because every higher rate would only grow the backlog.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any


@dataclass(frozen=True)
class Backlog:
    """Event counts at each stage of the path at one moment."""

    produced: int  # sum of the end offsets of the flights topic
    enriched: int  # sum of the end offsets of the flights_enriched topic
    stored: int  # rows of flights_enriched in ClickHouse

    @property
    def job_lag(self) -> int:
        return self.produced - self.enriched

    @property
    def store_lag(self) -> int:
        return self.produced - self.stored


@dataclass(frozen=True)
class LagRule:
    """Limits beyond which a step counts as not sustaining its rate."""

    lag_limit_s: float = 2.0
    min_rate_fraction: float = 0.95


def unsustained_reasons(
    rate: float, interval_s: float, start: Backlog, end: Backlog, rule: LagRule
) -> list[str]:
    """Return why the step at `rate` did not sustain it over [start, end], or [] if it did.

    `interval_s` is the time between the two backlog readings.
    """
    reasons = []
    limit = rate * rule.lag_limit_s
    sent_rate = (end.produced - start.produced) / interval_s
    if sent_rate < rate * rule.min_rate_fraction:
        reasons.append(
            f"the producer sent {sent_rate:,.0f} events/s, under {rule.min_rate_fraction:.0%} "
            f"of the offered {rate:,.0f}"
        )
    if end.store_lag > limit:
        reasons.append(
            f"ClickHouse trailed the flights topic by {end.store_lag:,} rows at the end, "
            f"over {limit:,.0f} ({rule.lag_limit_s:g} s of events)"
        )
    job_lag_growth = end.job_lag - start.job_lag
    if job_lag_growth > limit:
        reasons.append(
            f"the job's lag grew by {job_lag_growth:,} events during the measured interval, "
            f"over {limit:,.0f} ({rule.lag_limit_s:g} s of events)"
        )
    return reasons


def p99_under(distribution: dict[str, Any], target_ms: float) -> bool:
    """Tell whether a distribution has samples and its p99 is under `target_ms`."""
    p99 = distribution.get("p99")
    return bool(distribution.get("count")) and p99 is not None and p99 < target_ms


@dataclass(frozen=True)
class StepVerdict:
    """Pass or fail of one step against the latency target."""

    rate: float
    sustained: bool
    freshness_pass: bool
    query_pass: bool

    @property
    def passed(self) -> bool:
        return self.sustained and self.freshness_pass and self.query_pass


def judge_step(
    rate: float,
    reasons: Sequence[str],
    freshness: dict[str, Any],
    query: dict[str, Any],
    target_ms: float,
) -> StepVerdict:
    """Judge one step from its unsustained reasons and its two latency distributions."""
    return StepVerdict(
        rate=rate,
        sustained=not reasons,
        freshness_pass=p99_under(freshness, target_ms),
        query_pass=p99_under(query, target_ms),
    )


def highest_passing_rate(verdicts: Sequence[StepVerdict]) -> float | None:
    """Return the highest rate of a passing step, or None when no step passed."""
    passing = [v.rate for v in verdicts if v.passed]
    return max(passing) if passing else None


def parse_rates(text: str) -> tuple[float, ...]:
    """Parse "2000,5000,10000" into strictly increasing positive rates."""
    try:
        rates = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"rates must be numbers separated by commas, got {text!r}") from exc
    if not rates:
        raise ValueError("rates must list at least one rate, e.g. 2000,5000,10000")
    if any(rate <= 0 for rate in rates):
        raise ValueError(f"rates must be positive events per second, got {text!r}")
    if any(later <= earlier for earlier, later in pairwise(rates)):
        raise ValueError(f"rates must increase from step to step, got {text!r}")
    return rates
