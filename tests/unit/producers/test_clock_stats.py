"""Epoch stamps from aware datetimes, and latency percentiles."""

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from core.errors import ConfigError
from producers.clock import epoch_ms, epoch_us, send_stamp
from producers.stats import LatencyHistogram


def test_aware_datetimes_give_utc_epochs() -> None:
    pacific = timezone(timedelta(hours=-8))
    moment = datetime(2001, 1, 1, 0, 1, 0, 123_456, tzinfo=pacific)
    assert epoch_us(moment) == 978_336_060_123_456
    assert epoch_ms(moment) == 978_336_060_123
    assert send_stamp(moment) == (978_336_060_123, 978_336_060_123_456)
    assert epoch_ms(datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == -1


def test_naive_datetime_rejected() -> None:
    with pytest.raises(ConfigError, match="naive datetime 2001-01-01T00:01:00 rejected"):
        epoch_ms(datetime(2001, 1, 1, 0, 1))
    with pytest.raises(ConfigError, match="naive datetime"):
        send_stamp(datetime(2001, 1, 1))


def test_send_stamp_of_now_agrees() -> None:
    event_time, produced_at = send_stamp()
    assert produced_at // 1000 == event_time


def test_histogram_percentiles_within_bucket_width() -> None:
    histogram = LatencyHistogram()
    histogram.add(np.arange(1, 1001, dtype=np.int64) * 1_000_000)  # 1 ms to 1000 ms
    assert histogram.count == 1000
    p50 = histogram.percentile_ms(50)
    p99 = histogram.percentile_ms(99)
    assert p50 is not None and 500 <= p50 <= 500 * 1.024
    assert p99 is not None and 990 <= p99 <= 990 * 1.024
    assert histogram.percentile_ms(100) == 1000.0
    assert LatencyHistogram().percentile_ms(99) is None


def test_histogram_window_by_difference() -> None:
    total = LatencyHistogram()
    total.add(np.full(10, 5_000_000, dtype=np.int64))
    earlier = LatencyHistogram(total.counts, total.max_ns)
    total.add(np.full(10, 50_000_000, dtype=np.int64))
    window = total.minus(earlier)
    assert window.count == 10
    p50 = window.percentile_ms(50)
    assert p50 is not None and 50 <= p50 <= 50 * 1.024
