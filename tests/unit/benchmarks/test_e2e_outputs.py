"""Parsing of the peer tools' output and the end-to-end benchmark's written files."""

from pathlib import Path
from typing import Any

import pytest

from benchmarks.e2e_report import format_summary, write_outputs
from benchmarks.kafka_latency import KafkaLatencyError, parse_output
from benchmarks.locust_run import LocustError, LocustRun, locust_command, read_stats

# Output of EndToEndLatency from kafka-tools 4.1.2, 2,000 messages on a local broker.
KAFKA_TOOL_OUTPUT = """0\t318.23793199999994
1000\t2.587219
Avg latency: 6.8623 ms
Percentiles: 50th = 3, 99th = 40, 99.9th = 101
"""

# The header of Locust 2.47's *_stats.csv, with two data rows and the total.
LOCUST_STATS_CSV = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,"
    "75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
    "GET,/dashboards/freshness,10,0,18,30.5,9,124,512,1.2,0.0,18,20,25,30,60,120,120,120,"
    "124,124,124\n"
    "kafka,produce flights,1596,0,11,40.2,1,516,52,195.9,0.0,11,15,20,30,90,280,400,440,"
    "510,516,516\n"
    ",Aggregated,1606,0,11,40.1,1,516,55,197.1,0.0,11,15,20,30,90,280,400,440,510,516,516\n"
)


def test_kafka_tool_output_parsed() -> None:
    assert parse_output(KAFKA_TOOL_OUTPUT) == {
        "avg_ms": 6.8623,
        "p50_ms": 3.0,
        "p99_ms": 40.0,
        "p999_ms": 101.0,
    }


def test_kafka_tool_output_missing() -> None:
    with pytest.raises(KafkaLatencyError, match="printed no 'Avg latency'"):
        parse_output("0\t318.2\n")


def test_locust_stats_read(tmp_path: Path) -> None:
    path = tmp_path / "locust_stats.csv"
    path.write_text(LOCUST_STATS_CSV)
    rows = read_stats(path)
    assert [(r.request_type, r.name, r.requests, r.failures) for r in rows] == [
        ("GET", "/dashboards/freshness", 10, 0),
        ("kafka", "produce flights", 1596, 0),
        ("", "Aggregated", 1606, 0),
    ]
    assert (rows[1].median_ms, rows[1].p95_ms, rows[1].p99_ms, rows[1].max_ms) == (
        11.0, 280.0, 440.0, 516.0,
    )  # fmt: skip
    assert rows[1].requests_per_s == 195.9


def test_locust_command_rejects_one_user(tmp_path: Path) -> None:
    run = LocustRun("http://127.0.0.1:1", "127.0.0.1:2", tmp_path, 5, 1, 1)
    with pytest.raises(LocustError, match="--users 1 starts fewer users"):
        locust_command(run)


def test_locust_command_flags(tmp_path: Path) -> None:
    run = LocustRun("http://127.0.0.1:1", "127.0.0.1:2", tmp_path, 20.4, 4, 2)
    command = locust_command(run)
    assert command[command.index("--host") + 1] == "http://127.0.0.1:1"
    assert command[command.index("--users") + 1] == "4"
    assert command[command.index("--run-time") + 1] == "20s"
    assert command[command.index("--csv") + 1] == str(tmp_path / "locust")
    assert command[command.index("--html") + 1] == str(tmp_path / "locust.html")
    assert "--headless" in command


def distribution(p50: float, p99: float, count: int) -> dict[str, Any]:
    return {"p50": p50, "p95": p99, "p99": p99, "max": p99, "count": count}


def step(rate: float, freshness_p99: float, passed: bool) -> dict[str, Any]:
    return {
        "rate": rate,
        "sent_events_per_second": rate,
        "freshness_ms": distribution(50, freshness_p99, 1000),
        "freshness_cdf": {"levels": [0.0, 0.5, 1.0], "values_ms": [0.0, 50.0, freshness_p99]},
        "window_lag_ms": {"p50": None, "p95": None, "p99": None, "max": None, "count": 0},
        "query_ms": distribution(10, 30, 100),
        "idle_query_ms": distribution(5, 20, 50),
        "unsustained_reasons": [] if passed else ["the producer fell behind"],
        "sustained": passed,
        "freshness_pass": passed,
        "query_pass": True,
        "passed": passed,
    }


RESULTS: dict[str, Any] = {
    "started_at": "2026-12-04T20:58:26+00:00",
    "command": "rtpath bench e2e --rates 1000,3000",
    "machine": {"cpus": 2, "processor": "x86_64", "platform": "Linux", "python": "3.11.7"},
    "settings": {"warmup_s": 10, "measure_s": 20, "min_rate_fraction": 0.95, "lag_limit_s": 2},
    "target_ms": 200,
    "kafka_end_to_end_latency": {
        "p50_ms": 2.0,
        "p99_ms": 0.0,
        "messages": 2000,
        "message_bytes": 50,
    },
    "preload": None,
    "steps": [step(1000, 150, True), step(3000, 900, False)],
    "highest_passing_rate": 1000,
    "totals": {"events_produced": 90_000, "rows_clickhouse": 90_000, "rows_iceberg": 89_999},
}


def test_summary_lines() -> None:
    summary = format_summary(RESULTS).splitlines()
    assert summary[0] == "# End-to-end benchmark"
    assert (
        "| 1,000 | 1,000 | 50 / 150 / 150 / 150 (1,000) | n/a / n/a (0) | 10 / 30 "
        "| 5 / 20 | pass | pass | yes |"
    ) in summary
    assert (
        "| 3,000 | 3,000 | 50 / 900 / 900 / 900 (1,000) | n/a / n/a (0) | 10 / 30 "
        "| 5 / 20 | FAIL | pass | no |"
    ) in summary
    assert "- 3,000 events/s not sustained: the producer fell behind" in summary
    assert "- Highest rate that passed both p99 targets: 1,000 events/s" in summary
    assert "- Every event in both stores: NO" in summary


def test_outputs_written(tmp_path: Path) -> None:
    written = write_outputs(RESULTS, tmp_path / "out")
    assert [path.name for path in written] == [
        "results.json", "summary.md", "freshness_cdf.png", "latency_vs_rate.png",
    ]  # fmt: skip
    for path in written[2:]:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path.name
