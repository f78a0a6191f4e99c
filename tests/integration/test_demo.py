"""A short `rtpath demo` run: every stage as a real process, on the real flights."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.integration

RATE = 200
DURATION_S = 5
DISTRIBUTION_KEYS = {"p50", "p95", "p99", "max", "count"}


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory, artifact_cache: Path) -> dict:
    folder = tmp_path_factory.mktemp("demo")
    report_path = folder / "report.json"
    env = {
        **os.environ,
        "RTPATH_CACHE_DIR": str(artifact_cache),
        "RTPATH_KAFKA_CONTROLLER_PORT": str(free_port()),
        "RTPATH_KAFKA_HEAP": "512m",
    }
    result = subprocess.run(
        [sys.executable, "-m", "rtpath", "--data-dir", str(folder), "demo",
         "--duration", str(DURATION_S), "--rate", str(RATE), "--warmup", "1",
         "--kafka-port", str(free_port()), "--api-port", str(free_port()),
         "--flink-rest-port", str(free_port()), "--partitions", "2",
         "--report-json", str(report_path)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    assert "rtpath demo report" in result.stdout
    report: dict = json.loads(report_path.read_text())
    return report


def test_every_event_stored_once(demo_report: dict) -> None:
    produced = demo_report["events_produced"]
    assert produced == RATE * DURATION_S
    assert demo_report["events_lost"] == 0
    assert demo_report["rows_clickhouse"] == produced
    assert demo_report["distinct_event_ids_clickhouse"] == produced
    assert demo_report["rows_iceberg"] == produced
    assert demo_report["distinct_event_ids_iceberg"] == produced


def test_report_holds_every_figure(demo_report: dict) -> None:
    for name in ("events_produced", "rows_clickhouse", "rows_iceberg", "windows_clickhouse",
                 "events_per_second", "settings"):  # fmt: skip
        assert name in demo_report, name
    for name in ("freshness_ms", "query_ms"):
        assert set(demo_report[name]) == DISTRIBUTION_KEYS, name
        assert demo_report[name]["count"] > 0, name
    # Every row sent after the one-second warm-up has a freshness value.
    assert demo_report["freshness_ms"]["count"] >= (DURATION_S - 1) * RATE * 0.9
    assert demo_report["settings"]["rate"] == RATE
    assert demo_report["settings"]["duration_s"] == DURATION_S
