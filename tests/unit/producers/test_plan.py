"""Splitting a run over processes: shares of count and rate, and settings checks."""

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.errors import ConfigError
from core.settings import load_settings
from producers.launcher import plan_workers
from producers.settings import FlightProducerSettings


def test_count_and_rate_split_over_processes(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    pq.write_table(
        pa.table(
            {
                "date": pa.array([datetime(2001, 1, 1)], pa.timestamp("us")),
                "delay": [1],
                "distance": [1],
                "origin": ["A"],
                "destination": ["B"],
            }
        ),
        path,
    )
    settings = load_settings(
        FlightProducerSettings, input=path, count=10, rate=300.0, processes=3, seed=5
    )
    plans = plan_workers(settings, 1_000_000)
    assert [p.count for p in plans] == [4, 3, 3]
    assert [p.rate for p in plans] == [100.0, 100.0, 100.0]
    assert [(p.events.share.index, p.events.share.count) for p in plans] == [(0, 3), (1, 3), (2, 3)]
    assert {p.events.seed for p in plans} == {5}
    assert len(plans[0].events.file_tag) == 8


def test_rate_below_one_per_process_rejected() -> None:
    with pytest.raises(ConfigError, match="rate 1 events/s is below one event/s per process"):
        load_settings(FlightProducerSettings, rate=1.0, processes=2)
