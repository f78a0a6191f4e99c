"""`rtpath stack fetch | up | status | down | topics`: the local services."""

import argparse
import logging
import time
from typing import Any

from core.errors import BrokerError
from core.settings import Settings
from stack import artifacts
from stack.broker import LocalBroker
from stack.topics import design_topics, ensure_topics, list_topics

logger = logging.getLogger(__name__)


def add_parser(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = groups.add_parser("stack", help="fetch artifacts and run the local Kafka broker")
    commands = parser.add_subparsers(dest="command", required=True, metavar="ACTION")

    fetch = commands.add_parser("fetch", help="download and verify the pinned jars and dataset")
    fetch.add_argument(
        "--only", choices=["kafka", "flink", "data"], action="append",
        help="fetch only this group (repeatable; default: all)",
    )  # fmt: skip
    fetch.add_argument("--https-only", action="store_true", help="do not use mvn or npm")
    fetch.set_defaults(handler=run_fetch)

    for name, handler, text in (
        ("up", run_up, "start the broker (idempotent) and create the topics"),
        ("status", run_status, "print pid, address, uptime and topics of the broker"),
        ("down", run_down, "stop the broker: SIGTERM, then SIGKILL after a timeout"),
        ("topics", run_topics, "create any missing topic of the path and list them"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--kafka-port", type=int, help="broker port (default 9092)")
        command.add_argument(
            "--kafka-controller-port", type=int, help="controller port (default port+1)"
        )
        command.add_argument(
            "--partitions", type=int, help="partitions per created topic (default 6)"
        )
        command.set_defaults(handler=handler, settings_overrides=_broker_overrides)


def _broker_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "kafka_port": args.kafka_port,
        "kafka_controller_port": args.kafka_controller_port,
        "partitions": args.partitions,
    }


def run_fetch(settings: Settings, args: argparse.Namespace) -> int:
    groups = args.only or ["kafka", "flink", "data"]
    started = time.monotonic()
    paths = artifacts.fetch(settings.cache_path, groups, use_tools=not args.https_only)
    logger.info(
        "%d artifacts present and verified in %s (%.1f s)",
        len(paths), settings.cache_path, time.monotonic() - started,
    )  # fmt: skip
    return 0


def run_up(settings: Settings, args: argparse.Namespace) -> int:
    broker = LocalBroker(settings)
    state, started = broker.up()
    if not started:
        if state.port != settings.kafka_port:
            raise BrokerError(
                f"the broker of {settings.kafka_dir} already runs on {state.address}, not on "
                f"port {settings.kafka_port}; stop it with `rtpath stack down` first, or "
                "use another --data-dir for a second broker"
            )
        logger.info("Kafka broker already running: pid %d on %s", state.pid, state.address)
    ensure_topics(state.address, design_topics(settings.partitions))
    print(f"kafka broker ready on {state.address} (pid {state.pid})")
    return 0


def run_status(settings: Settings, args: argparse.Namespace) -> int:
    state = LocalBroker(settings).state()
    if state is None:
        print(f"kafka broker: not running (data folder {settings.kafka_dir})")
        return 3
    uptime = time.time() - state.started_at
    print(f"kafka broker: running, pid {state.pid}, address {state.address}, uptime {uptime:.0f} s")
    for name, partitions in list_topics(state.address).items():
        print(f"  topic {name}: {partitions} partition(s)")
    return 0


def run_down(settings: Settings, args: argparse.Namespace) -> int:
    stopped = LocalBroker(settings).down()
    if stopped is None:
        print("kafka broker: not running")
    else:
        print(f"kafka broker stopped (pid {stopped.pid})")
    return 0


def run_topics(settings: Settings, args: argparse.Namespace) -> int:
    created = ensure_topics(settings.bootstrap_servers, design_topics(settings.partitions))
    for name, partitions in list_topics(settings.bootstrap_servers).items():
        mark = " (created)" if name in created else ""
        print(f"{name}: {partitions} partition(s){mark}")
    return 0
