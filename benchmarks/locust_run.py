"""Run benchmarks/locustfile.py headless and read back Locust's statistics.

Locust runs as a child process (`python -m locust`), because it monkey-patches the
standard library with gevent when imported. The locustfile takes the Kafka settings from
environment variables, so this module passes them there; the dashboard host is Locust's
own `--host`.
"""

import csv
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from core import topics
from core.errors import RtpathError

logger = logging.getLogger(__name__)

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# Prefix of Locust's CSV files inside the output folder: locust_stats.csv and the others.
CSV_PREFIX = "locust"
HTML_NAME = "locust.html"
# Seconds Locust may take beyond --run-time to start, stop its users and write reports.
EXIT_GRACE_S = 120.0


class LocustError(RtpathError):
    """Locust could not be run or wrote no statistics."""


@dataclass(frozen=True)
class LocustRun:
    """One headless Locust run: its targets, its load and where its reports go."""

    api_url: str
    bootstrap_servers: str
    out_dir: Path
    duration_s: float
    users: int
    spawn_rate: float
    topic: str = topics.FLIGHTS
    events_per_user: float = 1000.0
    input_path: Path | None = None

    @property
    def stats_csv(self) -> Path:
        return self.out_dir / f"{CSV_PREFIX}_stats.csv"

    @property
    def html_report(self) -> Path:
        return self.out_dir / HTML_NAME


@dataclass(frozen=True)
class StatsRow:
    """One row of Locust's *_stats.csv, with latencies in milliseconds."""

    request_type: str
    name: str
    requests: int
    failures: int
    median_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    requests_per_s: float


def locust_command(run: LocustRun) -> list[str]:
    """Return the headless Locust command line of `run`."""
    if run.users < 2:
        raise LocustError(
            f"--users {run.users} starts fewer users than the locustfile has user types (2); "
            "pass --users 2 or more so the Kafka producer and the dashboard users both run"
        )
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", run.api_url, "--users", str(run.users), "--spawn-rate", str(run.spawn_rate),
        "--run-time", f"{max(1, round(run.duration_s))}s",
        "--csv", str(run.out_dir / CSV_PREFIX), "--html", str(run.html_report),
        "--only-summary",
    ]  # fmt: skip


def locust_environment(run: LocustRun) -> dict[str, str]:
    """Return the process environment of `run`: this one plus the locustfile's settings."""
    env = {
        **os.environ,
        "RTPATH_KAFKA_BOOTSTRAP": run.bootstrap_servers,
        "RTPATH_LOCUST_TOPIC": run.topic,
        "RTPATH_LOCUST_EVENTS_PER_USER": str(run.events_per_user),
    }
    if run.input_path is not None:
        env["RTPATH_LOCUST_INPUT"] = str(run.input_path)
    return env


def run_locust(run: LocustRun) -> tuple[int, list[StatsRow]]:
    """Run Locust headless and return its exit code and the rows of its stats CSV.

    Locust exits with 1 when any request failed; its reports are complete then too.
    """
    run.out_dir.mkdir(parents=True, exist_ok=True)
    command = locust_command(run)
    log_path = run.out_dir / "locust.log"
    logger.info(
        "running Locust for %.0f s: %d users (spawn rate %g/s) against %s and Kafka %s "
        "(topic %s, %g events/s per producer user); output in %s",
        run.duration_s, run.users, run.spawn_rate, run.api_url, run.bootstrap_servers,
        run.topic, run.events_per_user, run.out_dir,
    )  # fmt: skip
    with log_path.open("w") as log:
        try:
            result = subprocess.run(
                command, env=locust_environment(run), stdout=log, stderr=subprocess.STDOUT,
                timeout=run.duration_s + EXIT_GRACE_S, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise LocustError(
                f"Locust did not exit within {run.duration_s + EXIT_GRACE_S:.0f} s of a "
                f"{run.duration_s:.0f} s run; see {log_path}"
            ) from exc
    if not run.stats_csv.exists():
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
        raise LocustError(
            f"Locust exited with code {result.returncode} and wrote no {run.stats_csv}:\n{tail}"
        )
    logger.info("Locust exited with code %d; reports in %s", result.returncode, run.out_dir)
    return result.returncode, read_stats(run.stats_csv)


def read_stats(path: Path) -> list[StatsRow]:
    """Read Locust's *_stats.csv, the "Aggregated" row included."""
    with path.open(newline="") as file:
        return [
            StatsRow(
                request_type=row["Type"],
                name=row["Name"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                median_ms=_number(row["50%"]),
                p95_ms=_number(row["95%"]),
                p99_ms=_number(row["99%"]),
                max_ms=_number(row["Max Response Time"]),
                requests_per_s=_number(row["Requests/s"]),
            )
            for row in csv.DictReader(file)
        ]


def _number(text: str) -> float:
    # Locust writes "N/A" for percentiles of a name without requests.
    return float(text) if text not in ("", "N/A") else 0.0


def format_stats(rows: list[StatsRow]) -> str:
    """Return the stats rows as a Markdown table."""
    lines = [
        "| type | name | requests | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.request_type or '-'} | {r.name} | {r.requests:,} | {r.failures:,} "
            f"| {r.requests_per_s:,.1f} | {r.median_ms:.0f} | {r.p95_ms:.0f} | {r.p99_ms:.0f} "
            f"| {r.max_ms:.0f} |"
        )
    return "\n".join(lines)
