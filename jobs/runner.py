"""Start, watch and stop the flights job on a local PyFlink MiniCluster.

The job is one statement set built from the SQL files in `jobs/sql/`: decode flights,
enrich them with airports, route dead letters and late events, aggregate one-minute
windows. A start resumes from the newest checkpoint or savepoint under the data folder.
"""

import json
import logging
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from core.errors import BrokerError, JobError
from jobs import environment
from jobs.settings import JobSettings
from jobs.sqlfile import Statement, load_statements
from stack.java import check_java

logger = logging.getLogger(__name__)

Source = Literal["kafka", "datagen"]
BROKER_TIMEOUT_S = 10.0
# SHUTDOWN: the job's MiniCluster stopped, which happens right after the job ended.
TERMINAL_STATES = ("FINISHED", "CANCELED", "FAILED", "SHUTDOWN")
REST_TIMEOUT_S = 5.0
# Counters that the job's Java code registers (jobs/java/src/rtpath/flink), by metric name:
# the records the flights format decoded, those of them that were invalid, and the airport
# codes missing from the airport dimension (origin and destination counted separately).
JOB_COUNTERS = ("flightRecords", "invalidFlightRecords", "unknownAirportCodes")


@dataclass(frozen=True)
class JobPlan:
    """Which SQL files make up a job: the source and sinks vary, the rest is shared."""

    source: Source = "kafka"

    def files(self, settings: JobSettings) -> list[str]:
        enrich = "enrich_udf" if settings.enrichment == "udf" else "enrich_temporal_join"
        if self.source == "kafka":
            return ["settings", "functions", "kafka_source", enrich, "kafka_sinks", "outputs"]
        return ["settings", "functions", "datagen_source", enrich, "blackhole_sinks", "outputs"]


def sql_parameters(settings: JobSettings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Return the values of the `${name}` placeholders in the SQL files."""
    return {
        "bootstrap_servers": settings.bootstrap_servers,
        "group_id": settings.group_id,
        "flights_topic": settings.flights_topic,
        "airports_topic": settings.airports_topic,
        "enriched_topic": settings.enriched_topic,
        "windows_topic": settings.windows_topic,
        "late_topic": settings.late_topic,
        "dead_letter_topic": settings.dead_letter_topic,
        **(extra or {}),
    }


def check_topics(settings: JobSettings, timeout_s: float = BROKER_TIMEOUT_S) -> None:
    """Raise `BrokerError` when no broker responds or a topic of the job is missing."""
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers, "log_level": 0})
    try:
        existing = admin.list_topics(timeout=timeout_s).topics
    except KafkaException as exc:
        raise BrokerError(
            f"no Kafka broker answered on {settings.bootstrap_servers} within {timeout_s:.0f} s; "
            "start one with `rtpath stack up` or set --kafka-bootstrap"
        ) from exc
    wanted = [
        settings.flights_topic,
        settings.airports_topic,
        settings.enriched_topic,
        settings.windows_topic,
        settings.late_topic,
        settings.dead_letter_topic,
    ]
    absent = [name for name in wanted if name not in existing]
    if absent:
        raise BrokerError(
            f"topics missing on {settings.bootstrap_servers}: {', '.join(absent)}; "
            "create them with `rtpath stack topics`"
        )


class FlightsJob:
    """One run of the flights job; `start` submits it and returns, `stop` ends it."""

    def __init__(
        self,
        settings: JobSettings,
        plan: JobPlan | None = None,
        *,
        resume: bool = True,
        sql_extra: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.plan = plan or JobPlan()
        self.resume = resume
        self.sql_extra = sql_extra or {}
        self.job_id: str | None = None
        self.recovered_from: Path | None = None
        self.started_at = 0.0
        self._job_client: Any = None
        self._result: Any = None
        self._last_counters: dict[str, int] = dict.fromkeys(JOB_COUNTERS, 0)

    def start(self) -> str:
        """Check the prerequisites, submit the statement set and return the Flink job id."""
        environment.check_python()
        check_java()
        if self.plan.source == "kafka":
            check_topics(self.settings)
        recovery = environment.latest_snapshot(self.settings) if self.resume else None
        self.recovered_from = recovery
        options = environment.flink_options(self.settings, recovery)
        environment.prepare_python_path()

        from pyflink.table import EnvironmentSettings, TableEnvironment

        root_level = logging.getLogger().level
        table_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
        # Creating the first table environment sets the root logger to WARNING.
        logging.getLogger().setLevel(root_level)
        config = table_env.get_config()
        for key, value in options.items():
            config.set(key, value)
        statements = self.statements()
        logger.info(
            "starting flights job: source %s, enrichment %s, parallelism %d, bootstrap %s, "
            "flights topic %s, REST API http://127.0.0.1:%d, checkpoints every %d ms in %s, "
            "resuming from %s",
            self.plan.source, self.settings.enrichment, self.settings.parallelism,
            self.settings.bootstrap_servers, self.settings.flights_topic,
            self.settings.rest_port, self.settings.checkpoint_interval_ms,
            self.settings.checkpoint_dir, recovery or "nothing (fresh start)",
        )  # fmt: skip

        statement_set = table_env.create_statement_set()
        for statement in statements:
            logger.info("%s:%d %s", statement.file, statement.line, statement.first_line)
            option = statement.option
            try:
                if option is not None:
                    config.set(*option)
                elif statement.is_insert:
                    statement_set.add_insert_sql(statement.text)
                else:
                    table_env.execute_sql(statement.text)
            except Exception as exc:  # py4j wraps every Java exception in its own type
                raise JobError(
                    f"{statement.file}:{statement.line} failed: {_java_message(exc)}"
                ) from exc
        for key, value in table_env.get_config().get_configuration().to_dict().items():
            logger.debug("option %s = %s", key, value)
        try:
            result = statement_set.execute()
        except Exception as exc:
            raise JobError(f"submitting the flights job failed: {_java_message(exc)}") from exc
        self._result = result
        self._job_client = result.get_job_client()
        self.job_id = str(self._job_client.get_job_id())
        self.started_at = time.monotonic()
        logger.info("flights job %s submitted", self.job_id)
        return self.job_id

    def statements(self) -> list[Statement]:
        parameters = sql_parameters(self.settings, self.sql_extra)
        statements: list[Statement] = []
        for name in self.plan.files(self.settings):
            statements += load_statements(name, parameters)
        return statements

    def status(self) -> str:
        """Return the Flink job status, for example RUNNING or FAILED."""
        try:
            return str(self._client().get_job_status().result().name)
        except Exception as exc:
            if "has already been shut down" in str(exc):
                return "SHUTDOWN"
            raise JobError(
                f"cannot read the status of job {self.job_id}: {_java_message(exc)}"
            ) from exc

    def wait(self) -> None:
        """Block until a bounded job (datagen source) finishes; raise `JobError` if it fails."""
        try:
            self._result.wait()
        except Exception as exc:
            raise JobError(f"flights job {self.job_id} failed: {_java_message(exc)}") from exc

    def failure(self) -> str | None:
        """Return the error of a failed job, or None while it runs or after a clean end."""
        if self.status() not in ("FAILED", "SHUTDOWN"):
            return None
        try:
            self._client().get_job_execution_result().result()
        except Exception as exc:
            return _java_message(exc)
        return "job failed without an error message"

    def stop(self, savepoint: bool = True) -> str | None:
        """Stop the job; with `savepoint`, take a savepoint first and return its path."""
        client = self._client()
        if self.status() in TERMINAL_STATES:
            return None
        try:
            self.counters()
        except (OSError, ValueError) as exc:
            logger.warning(
                "cannot read the counters of job %s before stopping: %s", self.job_id, exc
            )
        path = None
        try:
            if savepoint:
                path = self._stop_with_savepoint(client)
            else:
                client.cancel().result()
        except Exception as exc:
            raise JobError(
                f"stopping flights job {self.job_id} failed: {_java_message(exc)}"
            ) from exc
        logger.info(
            "flights job %s stopped after %.0f s%s",
            self.job_id, time.monotonic() - self.started_at,
            f", savepoint {path}" if path else "",
        )  # fmt: skip
        return path

    def _stop_with_savepoint(self, client: Any) -> str:
        # PyFlink 2.2.1's JobClient.stop_with_savepoint calls a Java method that no longer
        # exists (it lacks the savepoint format argument), so call the Java client directly.
        from pyflink.java_gateway import get_gateway

        format_type = get_gateway().jvm.org.apache.flink.core.execution.SavepointFormatType
        future = client._j_job_client.stopWithSavepoint(
            False, self.settings.savepoint_dir.as_uri(), format_type.CANONICAL
        )
        return str(future.get())

    def wait_until_running(self, timeout_s: float = 120.0) -> None:
        """Block until every task of the job runs; raise `JobError` when it fails first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self.status()
            if status == "RUNNING" and self._all_tasks_running():
                return
            if status in TERMINAL_STATES:
                raise JobError(f"flights job {self.job_id} ended as {status}: {self.failure()}")
            time.sleep(0.5)
        raise JobError(f"flights job {self.job_id} was not running after {timeout_s:.0f} s")

    def _all_tasks_running(self) -> bool:
        url = f"{self.rest_url}/jobs/{self.job_id}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                details = json.load(response)
        except OSError:
            return False
        return all(vertex["status"] == "RUNNING" for vertex in details.get("vertices", []))

    def counters(self) -> dict[str, int]:
        """Read `JOB_COUNTERS` from the REST API, summed over operators and subtasks.

        Flink metrics start at zero with each run, so after a restart they count from the
        restart. Raises OSError or ValueError when the REST API does not respond as expected.
        """
        totals = dict.fromkeys(JOB_COUNTERS, 0)
        job_url = f"{self.rest_url}/jobs/{self.job_id}"
        for vertex in self._get_json(job_url).get("vertices", []):
            vertex_url = f"{job_url}/vertices/{vertex['id']}/metrics"
            # Metric ids are "<subtask>.<operator>[.<group>].<name>", for example
            # "0.Calc[7].unknownAirportCodes".
            ids = [
                metric["id"]
                for metric in self._get_json(vertex_url)
                if metric["id"].rsplit(".", 1)[-1] in totals
            ]
            if not ids:
                continue
            query = urllib.parse.urlencode({"get": ",".join(ids)})
            for metric in self._get_json(f"{vertex_url}?{query}"):
                totals[metric["id"].rsplit(".", 1)[-1]] += int(metric["value"])
        self._last_counters = totals
        return totals

    @property
    def last_counters(self) -> dict[str, int]:
        """The counters of the latest successful `counters` call, kept after the job ends."""
        return dict(self._last_counters)

    def _get_json(self, url: str) -> Any:
        with urllib.request.urlopen(url, timeout=REST_TIMEOUT_S) as response:
            return json.load(response)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.rest_port}"

    def _client(self) -> Any:
        if self._job_client is None:
            raise JobError("the flights job was not started")
        return self._job_client


def _java_message(exc: BaseException) -> str:
    """Return the innermost cause of a py4j error as one line, without the stack trace."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    causes = [line for line in lines if line.startswith("Caused by:")]
    if causes:
        return causes[-1].removeprefix("Caused by:").strip()
    messages = [line for line in lines if not line.startswith("at ")]
    return messages[-1] if messages else type(exc).__name__
