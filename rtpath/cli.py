"""The `rtpath` console script: one subcommand group per role of the path."""

import argparse
import logging
import sys
from collections.abc import Sequence

from core.errors import RtpathError
from core.logging import configure_logging
from core.settings import Settings, load_settings
from rtpath.commands import api, bench, demo, iceberg, job, produce, sink, size, stack

logger = logging.getLogger(__name__)

# Global flags map one to one onto `Settings` fields; None means "not given".
SETTINGS_FLAGS = ("data_dir", "cache_dir", "log_level", "kafka_bootstrap")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtpath",
        description="Run and measure the real-time path: Kafka, PyFlink, ClickHouse, Iceberg.",
    )
    parser.add_argument("--data-dir", help="folder for data, logs and downloads (default .rtpath)")
    parser.add_argument(
        "--cache-dir", help="folder for downloaded artifacts (default DATA_DIR/cache)"
    )
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument(
        "--kafka-bootstrap",
        help="bootstrap.servers of an external Kafka instead of the local broker",
    )
    groups = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")
    stack.add_parser(groups)
    produce.add_parser(groups)
    job.add_parser(groups)
    sink.add_parser(groups)
    iceberg.add_parser(groups)
    api.add_parsers(groups)
    bench.add_parser(groups)
    size.add_parser(groups)
    demo.add_parser(groups)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Build settings from the global flags plus any settings flag a subcommand defines.

    A subcommand sets `settings_model` (a `Settings` subclass) and `settings_overrides`
    (a function of the parsed arguments) with `set_defaults` to add its own settings.
    """
    overrides = {name: getattr(args, name, None) for name in SETTINGS_FLAGS}
    overrides.update(getattr(args, "settings_overrides", lambda a: {})(args))
    model: type[Settings] = getattr(args, "settings_model", Settings)
    return load_settings(model, **overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
        configure_logging(settings.log_level)
        result: int = args.handler(settings, args)
        return result
    except RtpathError as exc:
        configure_logging()
        logger.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        logger.warning("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
