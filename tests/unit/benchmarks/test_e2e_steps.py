"""The end-to-end benchmark's step decisions: lag rule, pass or fail, highest passing rate."""

import pytest

from benchmarks.e2e_settings import E2eSettings
from benchmarks.e2e_steps import (
    Backlog,
    LagRule,
    StepVerdict,
    highest_passing_rate,
    judge_step,
    p99_under,
    parse_rates,
    unsustained_reasons,
)
from core.errors import ConfigError
from core.settings import load_settings

RULE = LagRule(lag_limit_s=2.0, min_rate_fraction=0.95)


def distribution(p99: float | None, count: int) -> dict[str, float | int | None]:
    return {"p50": p99, "p95": p99, "p99": p99, "max": p99, "count": count}


def test_backlog_lags() -> None:
    backlog = Backlog(produced=1000, enriched=900, stored=850)
    assert backlog.job_lag == 100
    assert backlog.store_lag == 150


def test_steady_step_sustained() -> None:
    # 10,000 events/s for 10 s: 100,000 sent, ClickHouse 5,000 behind (0.5 s), job lag flat.
    start = Backlog(produced=1_000_000, enriched=999_000, stored=995_000)
    end = Backlog(produced=1_100_000, enriched=1_099_000, stored=1_095_000)
    assert unsustained_reasons(10_000, 10, start, end, RULE) == []


def test_store_lag_at_limit_sustained() -> None:
    # Exactly rate * lag_limit_s = 20,000 rows behind is still within the limit.
    start = Backlog(produced=0, enriched=0, stored=0)
    end = Backlog(produced=100_000, enriched=100_000, stored=80_000)
    assert unsustained_reasons(10_000, 10, start, end, RULE) == []


def test_store_lag_over_limit() -> None:
    start = Backlog(produced=0, enriched=0, stored=0)
    end = Backlog(produced=100_000, enriched=100_000, stored=79_999)
    assert unsustained_reasons(10_000, 10, start, end, RULE) == [
        "ClickHouse trailed the flights topic by 20,001 rows at the end, over 20,000 "
        "(2 s of events)"
    ]


def test_job_lag_growth_over_limit() -> None:
    # The job's lag grows from 5,000 to 25,001 while ClickHouse keeps up with the job.
    start = Backlog(produced=100_000, enriched=95_000, stored=95_000)
    end = Backlog(produced=200_000, enriched=174_999, stored=174_999)
    reasons = unsustained_reasons(10_000, 10, start, end, RULE)
    assert reasons == [
        "ClickHouse trailed the flights topic by 25,001 rows at the end, over 20,000 "
        "(2 s of events)",
        "the job's lag grew by 20,001 events during the measured interval, over 20,000 "
        "(2 s of events)",
    ]


def test_job_lag_shrinking_sustained() -> None:
    # A backlog left by the warm-up that shrinks during the interval is no growth.
    start = Backlog(produced=100_000, enriched=70_000, stored=70_000)
    end = Backlog(produced=200_000, enriched=190_000, stored=190_000)
    assert unsustained_reasons(10_000, 10, start, end, RULE) == []


def test_producer_behind_rate() -> None:
    # 94,999 events in 10 s is 9,499.9/s, under 95 % of 10,000.
    start = Backlog(produced=0, enriched=0, stored=0)
    end = Backlog(produced=94_999, enriched=94_999, stored=94_999)
    assert unsustained_reasons(10_000, 10, start, end, RULE) == [
        "the producer sent 9,500 events/s, under 95% of the offered 10,000"
    ]


def test_producer_at_fraction_sustained() -> None:
    start = Backlog(produced=0, enriched=0, stored=0)
    end = Backlog(produced=95_000, enriched=95_000, stored=95_000)
    assert unsustained_reasons(10_000, 10, start, end, RULE) == []


@pytest.mark.parametrize(
    ("p99", "count", "expected"),
    [
        (199.9, 10, True),
        (200.0, 10, False),
        (250.0, 10, False),
        (None, 0, False),
        (0.0, 0, False),
    ],
)
def test_p99_under_target(p99: float | None, count: int, expected: bool) -> None:
    assert p99_under(distribution(p99, count), 200.0) is expected


def test_judge_step_passes() -> None:
    verdict = judge_step(5000, [], distribution(150, 100), distribution(20, 50), 200)
    assert verdict == StepVerdict(5000, sustained=True, freshness_pass=True, query_pass=True)
    assert verdict.passed is True


@pytest.mark.parametrize(
    ("reasons", "freshness_p99", "query_p99", "expected"),
    [
        (["the producer fell behind"], 150, 20, StepVerdict(5000, False, True, True)),
        ([], 200, 20, StepVerdict(5000, True, False, True)),
        ([], 150, 201, StepVerdict(5000, True, True, False)),
    ],
)
def test_judge_step_fails(
    reasons: list[str], freshness_p99: float, query_p99: float, expected: StepVerdict
) -> None:
    verdict = judge_step(
        5000, reasons, distribution(freshness_p99, 100), distribution(query_p99, 50), 200
    )
    assert verdict == expected
    assert verdict.passed is False


def test_highest_passing_rate() -> None:
    verdicts = [
        StepVerdict(2000, True, True, True),
        StepVerdict(5000, True, True, True),
        StepVerdict(10_000, True, False, True),
        StepVerdict(20_000, False, False, False),
    ]
    assert highest_passing_rate(verdicts) == 5000


def test_highest_passing_rate_skips_noisy_failure() -> None:
    # A failed step between two passing ones does not hide the higher passing rate.
    verdicts = [
        StepVerdict(2000, True, True, True),
        StepVerdict(5000, True, True, False),
        StepVerdict(10_000, True, True, True),
    ]
    assert highest_passing_rate(verdicts) == 10_000


def test_highest_passing_rate_none() -> None:
    assert highest_passing_rate([StepVerdict(2000, True, False, True)]) is None
    assert highest_passing_rate([]) is None


def test_parse_rates() -> None:
    assert parse_rates("2000,5000, 10000") == (2000.0, 5000.0, 10_000.0)
    assert parse_rates("1500.5") == (1500.5,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one rate"),
        ("2000,abc", "numbers separated by commas"),
        ("0,1000", "positive"),
        ("5000,2000", "increase"),
        ("2000,2000", "increase"),
    ],
)
def test_parse_rates_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rates(text)


def test_settings_parse_rates_flag() -> None:
    settings = load_settings(E2eSettings, rates="1000,3000")
    assert settings.rates == (1000.0, 3000.0)


def test_settings_reject_decreasing_rates() -> None:
    with pytest.raises(ConfigError, match="rates must increase"):
        load_settings(E2eSettings, rates="3000,1000")
