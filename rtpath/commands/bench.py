"""`rtpath bench ...`: benchmarks of the stages of the path."""

import argparse
import logging

from benchmarks import job as job_benchmark
from core.settings import Settings
from jobs.settings import JobSettings
from rtpath.commands.job import add_job_flags, job_overrides

logger = logging.getLogger(__name__)


def add_parser(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = groups.add_parser("bench", help="measure throughput and latency")
    commands = parser.add_subparsers(dest="command", required=True, metavar="BENCHMARK")
    add_job_parser(commands)


def add_job_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    job = commands.add_parser(
        "job", help="flights job: Kafka-fed vs datagen rows/s, Kafka-in to Kafka-out latency"
    )
    add_job_flags(job)
    job.add_argument("--rows", type=int, default=200_000, help="rows per throughput phase")
    job.add_argument(
        "--latency-seconds", type=float, default=20.0, help="duration of the latency phase"
    )
    job.add_argument(
        "--latency-rate", type=float, help="flights/s of the latency phase (default: half "
        "the Kafka-fed rate)",
    )  # fmt: skip
    job.add_argument("--skip-throughput", action="store_true", help="run the latency phase only")
    job.set_defaults(
        handler=run_job_benchmark, settings_model=JobSettings, settings_overrides=job_overrides
    )


def run_job_benchmark(settings: Settings, args: argparse.Namespace) -> int:
    assert isinstance(settings, JobSettings)
    result = job_benchmark.run(
        settings, args.rows, args.latency_seconds, args.latency_rate, args.skip_throughput
    )
    print(job_benchmark.report(result, settings))
    return 0
