"""Argument parsing of `rtpath iceberg maintain`."""

import argparse
from datetime import timedelta

import pytest

from rtpath.commands.iceberg import parse_duration


def test_parse_duration() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("7d") == timedelta(days=7)
    with pytest.raises(argparse.ArgumentTypeError, match=r"invalid duration '1\.5h'"):
        parse_duration("1.5h")
