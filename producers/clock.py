"""Epoch times in UTC from timezone-aware datetimes or the wall clock, never naive ones.

A naive datetime has no time zone, so its epoch value would depend on the process time
zone. The path therefore stores every time as a UTC epoch integer and rejects naive values.
"""

import time
from datetime import UTC, datetime, timedelta

from core.errors import ConfigError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _check_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigError(
            f"naive datetime {moment.isoformat()} rejected: it has no time zone, so its epoch "
            "value would depend on the process time zone; pass an aware datetime such as "
            "datetime.now(UTC)"
        )


def epoch_ms(moment: datetime) -> int:
    """Return milliseconds since 1970-01-01T00:00Z of an aware datetime, rounded down."""
    _check_aware(moment)
    return (moment - EPOCH) // timedelta(milliseconds=1)


def epoch_us(moment: datetime) -> int:
    """Return microseconds since 1970-01-01T00:00Z of an aware datetime."""
    _check_aware(moment)
    return (moment - EPOCH) // timedelta(microseconds=1)


def send_stamp(moment: datetime | None = None) -> tuple[int, int]:
    """Return (`event_time` in epoch ms, `produced_at` in epoch µs) of `moment` or of now.

    Both come from one reading, so `event_time` is `produced_at` rounded down to the ms.
    """
    if moment is None:
        now_ns = time.time_ns()
        return now_ns // 1_000_000, now_ns // 1_000
    micros = epoch_us(moment)
    return micros // 1_000, micros
