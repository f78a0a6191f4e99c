"""`rtpath bench produce`: measure the producers against Kafka's own perf tool."""

import argparse
import logging
from typing import Any

from benchmarks.produce import ProduceBenchSettings, format_table, run_benchmark
from core.settings import Settings

logger = logging.getLogger(__name__)


def add_parser(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = groups.add_parser("bench", help="run the benchmarks against the local broker")
    commands = parser.add_subparsers(dest="command", required=True, metavar="BENCHMARK")
    produce = commands.add_parser(
        "produce",
        help="Python Avro producer (1 and 2 processes), a pre-encoded loop and "
        "kafka-producer-perf-test, with the same producer settings",
    )
    produce.add_argument(
        "--events", type=int, help="events each producer sends (default 3000000, the whole file)"
    )
    produce.add_argument("--kafka-port", type=int, help="port of the local broker (default 9092)")
    produce.add_argument(
        "--partitions", type=int, help="partitions of the bench topics (default 6)"
    )
    produce.add_argument("--linger-ms", type=int, help="linger.ms (default 5)")
    produce.add_argument("--batch-size", type=int, help="batch.size in bytes (default 1000000)")
    produce.add_argument(
        "--compression", choices=["none", "gzip", "snappy", "lz4", "zstd"],
        help="compression.type (default none)",
    )  # fmt: skip
    produce.set_defaults(
        handler=run_bench_produce,
        settings_model=ProduceBenchSettings,
        settings_overrides=_overrides,
    )


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "events": args.events,
        "kafka_port": args.kafka_port,
        "partitions": args.partitions,
        "linger_ms": args.linger_ms,
        "batch_size": args.batch_size,
        "compression": args.compression,
    }


def run_bench_produce(settings: Settings, args: argparse.Namespace) -> int:
    assert isinstance(settings, ProduceBenchSettings)
    results = run_benchmark(settings)
    print(format_table(results))
    return 0
