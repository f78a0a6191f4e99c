"""`rtpath job run`: the PyFlink SQL jobs on a local MiniCluster."""

import argparse
import logging
import signal
import time
from types import FrameType
from typing import Any

from core.errors import JobError
from core.settings import Settings
from jobs.settings import JobSettings

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 30.0


def add_parser(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = groups.add_parser("job", help="run the PyFlink SQL jobs")
    commands = parser.add_subparsers(dest="command", required=True, metavar="ACTION")
    run = commands.add_parser(
        "run",
        help="enrich flights and aggregate delays until interrupted; resumes from the "
        "latest checkpoint or savepoint in DATA_DIR/flink",
    )
    add_job_flags(run)
    run.add_argument(
        "--fresh", action="store_true", help="ignore earlier checkpoints and savepoints"
    )
    run.set_defaults(handler=run_job, settings_model=JobSettings, settings_overrides=job_overrides)


def add_job_flags(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `JobSettings`; `rtpath bench job` shares them."""
    parser.add_argument("--kafka-port", type=int, help="port of the local broker (default 9092)")
    parser.add_argument("--parallelism", type=int, help="parallelism of every operator (default 1)")
    parser.add_argument(
        "--checkpoint-interval-ms", type=int, help="checkpoint interval in ms (default 10000)"
    )
    parser.add_argument(
        "--rest-port", "--flink-rest-port", dest="rest_port", type=int,
        help="Flink REST API port on 127.0.0.1 (8081)",
    )  # fmt: skip
    parser.add_argument("--group-id", help="Kafka consumer group (default rtpath-jobs)")
    parser.add_argument(
        "--enrichment",
        choices=["udf", "temporal-join"],
        help="airport lookup: Python UDF over the airports topic (default) or temporal join",
    )


def job_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "kafka_port": args.kafka_port,
        "parallelism": args.parallelism,
        "checkpoint_interval_ms": args.checkpoint_interval_ms,
        "rest_port": args.rest_port,
        "group_id": args.group_id,
        "enrichment": args.enrichment,
    }


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave the wait loop like Ctrl-C does."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop()


def run_job(settings: Settings, args: argparse.Namespace) -> int:
    from jobs.monitor import OutputCounter
    from jobs.runner import TERMINAL_STATES, FlightsJob

    assert isinstance(settings, JobSettings)
    job = FlightsJob(settings, resume=not args.fresh)
    # Taken before the start, so rows the job writes while its tasks come up count too.
    counter = OutputCounter(settings)
    job.start()
    job.wait_until_running()
    logger.info("flights job %s running; REST API %s; Ctrl-C stops it", job.job_id, job.rest_url)
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        while True:
            time.sleep(PROGRESS_INTERVAL_S)
            status = job.status()
            if status in TERMINAL_STATES:
                raise JobError(f"flights job {job.job_id} ended as {status}: {job.failure()}")
            try:
                counters = job.counters()
            except (OSError, ValueError) as exc:
                logger.warning("cannot read the counters of job %s: %s", job.job_id, exc)
                counters = job.last_counters
            logger.info(
                "flights job %s %s: %s; %s",
                job.job_id, status, counter.summary(), _counter_summary(counters),
            )  # fmt: skip
    except (KeyboardInterrupt, _Stop):
        logger.info("stopping flights job %s with a savepoint", job.job_id)
        job.stop()
    finally:
        signal.signal(signal.SIGTERM, previous)
    logger.info(
        "flights job %s stopped after %.0f s; wrote %s; %s",
        job.job_id, time.monotonic() - job.started_at, counter.summary(),
        _counter_summary(job.last_counters),
    )  # fmt: skip
    return 0


def _counter_summary(counters: dict[str, int]) -> str:
    return (
        f"decoded {counters['flightRecords']} flight records "
        f"({counters['invalidFlightRecords']} invalid), "
        f"{counters['unknownAirportCodes']} airport codes missing from the dimension"
    )
