"""Run the whole path as processes on this machine: broker, Flink job, both sinks, query API.

The demo and the end-to-end benchmark both run on `RunningPath`. It starts every stage in
its own process under one data folder, waits until each is ready and starts producers on
request. When the `with` block ends, also on errors and Ctrl-C, it stops everything it
started.
"""

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from benchmarks.observe import (
    ApiClient,
    clickhouse_counts,
    clickhouse_rows,
    freshness_ms,
    iceberg_counts,
    iceberg_rows,
)
from core import topics
from core.errors import RtpathError
from core.settings import Settings
from stack import artifacts
from stack.broker import LocalBroker
from stack.supervisor import Supervised, Supervisor
from stack.topics import design_topics, end_offsets, ensure_topics

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 180.0


class PathError(RtpathError):
    """A stage of the path failed to start or stopped while it was needed."""


@dataclass(frozen=True)
class PathConfig:
    """Data folder and loopback ports of the path's stages."""

    settings: Settings
    data_dir: Path
    api_port: int = 8124
    flink_rest_port: int = 8081
    iceberg_commit_interval_s: float = 5.0
    fresh: bool = True


class RunningPath:
    """The path's processes, from `__enter__` until `__exit__`."""

    def __init__(self, config: PathConfig) -> None:
        self.config = config
        settings = config.settings
        self.data_dir = config.data_dir.resolve()
        self.cache = settings.cache_path
        self.env = {
            "RTPATH_DATA_DIR": str(self.data_dir),
            "RTPATH_CACHE_DIR": str(self.cache),
            "RTPATH_KAFKA_PORT": str(settings.kafka_port),
            "RTPATH_KAFKA_CONTROLLER_PORT": str(settings.controller_port),
            "RTPATH_LOG_LEVEL": settings.log_level,
        }
        self.broker = LocalBroker(
            settings.model_copy(update={"data_dir": self.data_dir, "cache_dir": self.cache})
        )
        self.supervisor = Supervisor(self.data_dir / "logs")
        self.api = ApiClient(f"http://127.0.0.1:{config.api_port}")
        self.bootstrap = settings.bootstrap_servers
        self._producers = 0

    def __enter__(self) -> "RunningPath":
        artifacts.fetch(self.cache)
        if self.config.fresh and self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        state, _ = self.broker.up()
        self.bootstrap = state.address
        try:
            ensure_topics(self.bootstrap, design_topics(self.config.settings.partitions))
            self.supervisor.__enter__()
            self._start_stages()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.supervisor.stop_all()
        finally:
            self.api.close()
            self.broker.down()

    def _start_stages(self) -> None:
        config = self.config
        airports = self.supervisor.start("produce-airports", ["produce", "airports"], self.env)
        if self.supervisor.wait(airports, READY_TIMEOUT_S) != 0:
            raise PathError(f"loading airports failed:\n{airports.log_tail()}")
        self.supervisor.start(
            "job", ["job", "run", "--rest-port", str(config.flink_rest_port)], self.env
        )
        self.supervisor.start(
            "sink-clickhouse", ["sink", "clickhouse", "--api-port", str(config.api_port)], self.env
        )
        iceberg_env = {
            **self.env,
            "RTPATH_ICEBERG_COMMIT_INTERVAL_S": str(config.iceberg_commit_interval_s),
        }
        self.supervisor.start("sink-iceberg", ["sink", "iceberg"], iceberg_env)
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        """Wait until every Flink task runs and the query API passes its health check."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        job_running = api_ready = False
        while not (job_running and api_ready):
            self.supervisor.check()
            if time.monotonic() > deadline:
                raise PathError(
                    f"not ready after {READY_TIMEOUT_S:.0f} s: Flink job running={job_running}, "
                    f"query API healthy={api_ready}; see the logs in {self.supervisor.log_dir}"
                )
            job_running = job_running or flink_job_running(self.config.flink_rest_port)
            api_ready = api_ready or self.api.healthy()
            time.sleep(0.5)
        logger.info("Flink job running and query API healthy")

    def start_producer(self, args: list[str]) -> tuple[Supervised, Path]:
        """Start `rtpath produce flights ARGS`; return it and the path of its summary JSON."""
        self._producers += 1
        name = f"produce-flights-{self._producers}"
        summary = self.data_dir / f"{name}.json"
        child = self.supervisor.start(
            name, ["produce", "flights", *args, "--summary-json", str(summary)], self.env
        )
        return child, summary

    def finish_producer(self, child: Supervised, summary: Path) -> dict[str, Any]:
        """Wait for a producer to exit and return its totals; raise when it failed."""
        if self.supervisor.wait(child, READY_TIMEOUT_S) != 0:
            raise PathError(f"{child.name} failed:\n{child.log_tail()}")
        totals: dict[str, Any] = json.loads(summary.read_text())
        return totals

    def watch(self, producer: Supervised, progress_interval_s: float) -> None:
        """Log progress until `producer` exits; raise when another process stops."""
        next_progress = time.monotonic() + progress_interval_s
        while producer.process.poll() is None:
            for child in self.supervisor.children:
                if child is not producer and child.process.poll() is not None:
                    raise PathError(
                        f"{child.name} exited with code {child.process.returncode}:\n"
                        f"{child.log_tail()}"
                    )
            if time.monotonic() >= next_progress:
                self.log_progress()
                next_progress += progress_interval_s
            time.sleep(0.2)

    def log_progress(self) -> None:
        """Log events per stage, the lag between stages and the recent freshness."""
        try:
            # Downstream first: each count is then taken before the one upstream of it,
            # so a lag is never negative because of the order of the reads.
            stored = clickhouse_rows(self.api)
            enriched = end_offsets(self.bootstrap, topics.FLIGHTS_ENRICHED)
            produced = end_offsets(self.bootstrap, topics.FLIGHTS)
            now_ms = int(time.time() * 1000)
            recent = freshness_ms(self.api, now_ms - 10_000, now_ms)
        except RtpathError as exc:
            logger.warning("progress not available: %s", exc)
            return
        p99 = recent["p99"]
        logger.info(
            "progress: flights %d, enriched %d (lag %d), ClickHouse %d (lag %d), "
            "freshness p99 over the last 10 s %s",
            produced, enriched, produced - enriched, stored, enriched - stored,
            "n/a" if p99 is None else f"{p99:.0f} ms",
        )  # fmt: skip

    def drain(self, expected: int, timeout_s: float) -> tuple[dict[str, int], dict[str, int]]:
        """Wait until ClickHouse and Iceberg hold `expected` rows, or `timeout_s` passes.

        The wait polls the cheap row counts (part metadata, the snapshot summary); the
        distinct event ids, which scan every row, are counted once at the end.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            self.supervisor.check()
            clickhouse_stored = clickhouse_rows(self.api)
            iceberg_stored = iceberg_rows(str(self.data_dir), str(self.cache))
            if clickhouse_stored >= expected and iceberg_stored >= expected:
                break
            if time.monotonic() > deadline:
                logger.error(
                    "stores incomplete after %.0f s: %d rows expected, ClickHouse %d, "
                    "Iceberg %d", timeout_s, expected, clickhouse_stored, iceberg_stored,
                )  # fmt: skip
                break
            logger.info("draining: %d rows expected, ClickHouse %d, Iceberg %d",
                        expected, clickhouse_stored, iceberg_stored)  # fmt: skip
            time.sleep(2.0)
        return clickhouse_counts(self.api), iceberg_counts(str(self.data_dir), str(self.cache))


def flink_job_running(rest_port: int) -> bool:
    """Tell whether a Flink job runs with every task deployed, Python functions included."""
    base = f"http://127.0.0.1:{rest_port}"
    try:
        overview = httpx.get(f"{base}/jobs/overview", timeout=5)
        if overview.status_code != 200:
            return False
        for job in overview.json().get("jobs", []):
            if job["state"] != "RUNNING":
                continue
            details = httpx.get(f"{base}/jobs/{job['jid']}", timeout=5).json()
            vertices = details.get("vertices", [])
            if vertices and all(v["status"] == "RUNNING" for v in vertices):
                return True
    except (httpx.HTTPError, ValueError):
        return False
    return False
