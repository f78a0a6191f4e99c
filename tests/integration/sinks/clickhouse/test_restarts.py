"""The ClickHouse sink as a separate process: SIGKILL at random points, and a non-UTC zone."""

import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.sinks.clickhouse.conftest import (
    SinkSetup,
    encode,
    flight_row,
    produce,
    window_row,
)

pytestmark = pytest.mark.integration

FLIGHTS = 12_000
KILLS = 4
# Static group membership lets each restarted sink take the partitions back at once, instead
# of waiting for the killed member's session to time out.
SINK_OPTIONS = (
    "--batch-rows", "300", "--flush-interval-ms", "20",
    "--consumer-option", "group.instance.id=test-sink-0",
)  # fmt: skip


def produce_slowly(setup: SinkSetup, failures: list[BaseException]) -> None:
    """Send the flights in chunks over about 5 s, and every window twice, the copy later."""
    try:
        for start in range(0, FLIGHTS, 1_000):
            rows = [(i % 3, encode(flight_row(i))) for i in range(start, start + 1_000)]
            produce(setup.bootstrap, setup.flights_topic, rows)
            windows = [
                window_row(("ORD", "DFW")[k % 2], start // 1_000 * 10 + k) for k in range(10)
            ]
            produce(setup.bootstrap, setup.windows_topic,
                    [(k % 2, encode(row)) for k, row in enumerate(windows)])  # fmt: skip
            again = [dict(row, emitted_at=row["emitted_at"] + 1) for row in windows]
            produce(setup.bootstrap, setup.windows_topic,
                    [((k + 1) % 2, encode(row)) for k, row in enumerate(again)])  # fmt: skip
            time.sleep(0.4)
    except BaseException as exc:  # reported by the test thread
        failures.append(exc)


def wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while text not in log.read_text():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"no {text!r} in {log} after 90 s"
        time.sleep(0.05)


def test_sigkill_restarts_store_each_row_once(
    sink_setup: SinkSetup, open_store, tmp_path: Path
) -> None:
    seed = random.randrange(1 << 30)
    chooser = random.Random(seed)
    failures: list[BaseException] = []
    producer = threading.Thread(target=produce_slowly, args=(sink_setup, failures))
    producer.start()
    kill_after = []
    logs = [tmp_path / f"sink-{run}.log" for run in range(KILLS)]
    try:
        for log in logs:
            with log.open("w") as stderr:
                process = subprocess.Popen(
                    sink_setup.command(*SINK_OPTIONS),
                    cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
                )  # fmt: skip
            # Startup takes seconds on a busy machine, so the random delay counts from the
            # partition assignment, which the sink logs before it reads the first batch.
            wait_for_line(log, "assigned ", process)
            kill_after.append(round(chooser.uniform(0.0, 1.0), 2))
            time.sleep(kill_after[-1])
            process.send_signal(signal.SIGKILL)
            assert process.wait(30) == -signal.SIGKILL
    finally:
        producer.join()
    assert failures == []

    sink_setup.run_process(*SINK_OPTIONS, "--stop-at-end")

    client = open_store(sink_setup)
    note = f"seed {seed}, kills {kill_after} s after assignment"
    counts = client.query("SELECT count(), uniqExact(event_id) FROM flights_enriched")
    assert counts.result_rows == [(FLIGHTS, FLIGHTS)], note
    ids = client.query("SELECT event_id FROM flights_enriched ORDER BY event_id").result_rows
    assert [event_id for (event_id,) in ids] == [f"ev-{i:06d}" for i in range(FLIGHTS)], note
    windows = client.query(
        "SELECT origin, toUnixTimestamp64Milli(window_start), toUnixTimestamp64Micro(emitted_at) "
        "FROM delays_by_airport_1m FINAL ORDER BY window_start, origin"
    ).result_rows
    expected = [window_row(("ORD", "DFW")[k % 2], k) for k in range(FLIGHTS // 100)]
    # Each window was sent twice; the copy with the later emitted_at replaces the first.
    assert windows == [(w["origin"], w["window_start"], w["emitted_at"] + 1) for w in expected]


def test_non_utc_zone_keeps_times(sink_setup: SinkSetup, open_store) -> None:
    flights = [flight_row(i) for i in range(6)]
    flights[0]["departure"] = "2001-03-11 02:30:00"  # does not exist in Los Angeles local time
    flights[1]["departure"] = "2001-11-04 01:30:00.250"  # exists twice there
    windows = [window_row("SFO", 0)]
    produce(sink_setup.bootstrap, sink_setup.flights_topic,
            [(0, encode(row)) for row in flights])  # fmt: skip
    produce(sink_setup.bootstrap, sink_setup.windows_topic, [(0, encode(windows[0]))])

    sink_setup.run_process("--stop-at-end", env={"TZ": "America/Los_Angeles"})

    client = open_store(sink_setup)
    stored = client.query(
        "SELECT toString(departure), toUnixTimestamp64Milli(event_time), "
        "toUnixTimestamp64Micro(produced_at), toUnixTimestamp64Micro(enriched_at), "
        "toString(event_time), timeZoneOf(inserted_at), inserted_at >= produced_at "
        "FROM flights_enriched ORDER BY event_id"
    ).result_rows
    assert stored[0][0] == "2001-03-11 02:30:00.000"
    assert stored[1][0] == "2001-11-04 01:30:00.250"
    assert stored[0][4] == "2023-11-14 22:13:20.123"
    for row, values in zip(flights, stored, strict=True):
        assert values[1:4] == (row["event_time"], row["produced_at"], row["enriched_at"])
        assert values[5] == "UTC"
        assert values[6] == 1
    window = client.query(
        "SELECT toString(window_start), toUnixTimestamp64Micro(emitted_at) "
        "FROM delays_by_airport_1m FINAL"
    ).result_rows
    assert window == [("2023-11-14 22:14:00.000", windows[0]["emitted_at"])]
