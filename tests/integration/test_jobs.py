"""The flights job on a real broker and a real PyFlink MiniCluster.

One job serves most tests of this module, because each job start costs about 10 s. Its
input is written in steps, and each test checks the output of one step. The tests run in
file order, and each waits for the output it checks.
"""

import io
import json
import math
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from fastavro import schemaless_writer

from core.schemas import load_schema, parsed_schema
from jobs import environment, functions_jar
from jobs.runner import FlightsJob
from jobs.settings import JobSettings
from stack import artifacts
from tests.conftest import free_port

pytestmark = pytest.mark.integration

WAIT_S = 90.0
MINUTE_MS = 60_000
DELAY_THRESHOLD = 15

AIRPORTS = {
    "ATL": ("Atlanta", "GA", 33.64044444, -84.42694444),
    "ORD": ("Chicago", "IL", 41.979595, -87.90446417),
    "DFW": ("Dallas-Fort Worth", "TX", 32.89595056, -97.0372),
    "SEA": ("Seattle", "WA", 47.44898194, -122.3093131),
}


def encode(schema: str, record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, parsed_schema(schema), record)
    return buffer.getvalue()


def airport_record(code: str, city: str) -> dict[str, Any]:
    _, state, latitude, longitude = AIRPORTS[code]
    return {
        "code": code, "name": f"{city} airport", "city": city, "state": state,
        "country": "USA", "latitude": latitude, "longitude": longitude, "updated_at": 0,
    }  # fmt: skip


def flight(event_id: str, origin: str, destination: str, delay: int | None, event_time: int):
    return {
        "event_id": event_id,
        "departure": _departure(event_time),
        "origin": origin,
        "destination": destination,
        "delay_minutes": delay,
        "distance_miles": 500 + len(event_id),
        "event_time": event_time,
        "produced_at": event_time * 1000 + 7,
        "is_synthetic": False,
        "replay_round": 0,
    }


def _departure(event_time: int) -> Any:
    import datetime

    return datetime.datetime(2001, 3, 4, 5, 6, 7, 120_000) + datetime.timedelta(
        milliseconds=event_time % 1000
    )


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance, independent of GreatCircleMiles: the textbook formula."""
    radius = 3958.7613
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * radius * math.atan2(math.sqrt(a), math.sqrt(1 - a))


def expected_enriched(record: dict[str, Any], cities: dict[str, str]) -> dict[str, Any]:
    row = {key: value for key, value in record.items() if key != "departure"}
    row["departure"] = record["departure"].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    for end in ("origin", "destination"):
        code = record[end]
        known = code in AIRPORTS
        row[f"{end}_city"] = cities.get(code) if known else None
        row[f"{end}_state"] = AIRPORTS[code][1] if known else None
        row[f"{end}_latitude"] = AIRPORTS[code][2] if known else None
        row[f"{end}_longitude"] = AIRPORTS[code][3] if known else None
    if record["origin"] in AIRPORTS and record["destination"] in AIRPORTS:
        o, d = AIRPORTS[record["origin"]], AIRPORTS[record["destination"]]
        row["great_circle_miles"] = pytest.approx(haversine_miles(o[2], o[3], d[2], d[3]))
    else:
        row["great_circle_miles"] = None
    return row


def expected_windows(records: list[dict[str, Any]], watermark: int) -> set[tuple[Any, ...]]:
    """Aggregate the flights of every one-minute window that ends at or before `watermark`."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for record in records:
        start = record["event_time"] // MINUTE_MS * MINUTE_MS
        if start + MINUTE_MS - 1 <= watermark:
            groups.setdefault((record["origin"], start), []).append(record)
    rows = set()
    for (origin, start), members in groups.items():
        delays = [m["delay_minutes"] for m in members if m["delay_minutes"] is not None]
        rows.add(
            (
                origin,
                start,
                start + MINUTE_MS,
                len(members),
                sum(1 for d in delays if d >= DELAY_THRESHOLD),
                sum(delays) / len(delays) if delays else None,
                max(delays) if delays else None,
                max(m["produced_at"] for m in members),
            )
        )
    return rows


def window_key(row: dict[str, Any]) -> tuple[Any, ...]:
    names = [f["name"] for f in load_schema("delays_by_airport_1m")["fields"]]
    return tuple(row[name] for name in names if name != "emitted_at")


class TopicReader:
    """Read a topic from the beginning, keeping every message seen so far."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.messages: list[Any] = []
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"test-{uuid.uuid4().hex[:8]}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        self._consumer.subscribe([topic])

    def rows(self) -> list[dict[str, Any]]:
        return [json.loads(m.value()) for m in self.messages]

    def wait_for(self, done: Callable[[list[Any]], bool], what: str) -> list[Any]:
        deadline = time.monotonic() + WAIT_S
        while not done(self.messages):
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not arrive on {self.topic} within {WAIT_S:.0f} s")
            for message in self._consumer.consume(num_messages=500, timeout=0.5):
                if message.error() is None:
                    self.messages.append(message)
        return self.messages

    def close(self) -> None:
        self._consumer.close()


@dataclass
class RunningJob:
    """A started flights job and everything the tests need to feed and read it."""

    job: FlightsJob
    settings: JobSettings
    producer: Producer
    enriched: TopicReader
    windows: TopicReader
    late: TopicReader
    dead_letters: TopicReader
    sent: list[dict[str, Any]]
    invalid_sent: int = 0

    def send(self, *records: dict[str, Any]) -> None:
        for record in records:
            self.producer.produce(
                self.settings.flights_topic,
                key=record["origin"].encode(),
                value=encode("flight", record),
                partition=0,
            )
            self.sent.append(record)
        self.producer.flush(30)

    def send_invalid(self, value: bytes | None, key: bytes = b"ATL") -> None:
        """Write a record that is not a valid flight to partition 0."""
        self.producer.produce(self.settings.flights_topic, key=key, value=value, partition=0)
        self.producer.flush(30)
        self.invalid_sent += 1

    def enriched_by_id(self) -> dict[str, dict[str, Any]]:
        return {row["event_id"]: row for row in self.enriched.rows()}


def job_settings(tmp: Path, cache: Path, bootstrap: str, topic: Callable[..., str]) -> JobSettings:
    return JobSettings(
        data_dir=tmp,
        cache_dir=cache,
        kafka_bootstrap=bootstrap,
        rest_port=free_port(),
        checkpoint_interval_ms=2_000,
        group_id=f"jobs-{uuid.uuid4().hex[:8]}",
        # Two partitions, of which the tests write only the first: the second stays idle.
        flights_topic=topic("flights", partitions=2),
        airports_topic=topic("airports", config={"cleanup.policy": "compact"}),
        enriched_topic=topic("enriched"),
        windows_topic=topic("windows"),
        late_topic=topic("late"),
        flights_dead_letter_topic=topic("flights.dlq"),
    )


@pytest.fixture(scope="module")
def module_topics(kafka_bootstrap: str) -> Iterator[Callable[..., str]]:
    from confluent_kafka.admin import AdminClient

    from stack.topics import TopicSpec, ensure_topics

    created: list[str] = []

    def make(prefix: str, partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = f"{prefix}-jobs-{uuid.uuid4().hex[:8]}"
        ensure_topics(kafka_bootstrap, [TopicSpec(name, partitions, config or {})])
        created.append(name)
        return name

    yield make
    AdminClient({"bootstrap.servers": kafka_bootstrap}).delete_topics(created)


def publish_airports(bootstrap: str, topic: str, cities: dict[str, str]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for code, city in cities.items():
        producer.produce(
            topic, key=code.encode(), value=encode("airport", airport_record(code, city))
        )
    producer.flush(30)


@pytest.fixture(scope="module")
def running_job(
    kafka_bootstrap: str,
    artifact_cache: Path,
    tmp_path_factory: pytest.TempPathFactory,
    module_topics: Callable[..., str],
) -> Iterator[RunningJob]:
    settings = job_settings(
        tmp_path_factory.mktemp("job"), artifact_cache, kafka_bootstrap, module_topics
    )
    publish_airports(
        kafka_bootstrap, settings.airports_topic, {c: AIRPORTS[c][0] for c in AIRPORTS}
    )
    job = FlightsJob(settings, resume=False)
    job.start()
    readers = [
        TopicReader(kafka_bootstrap, topic)
        for topic in (
            settings.enriched_topic, settings.windows_topic,
            settings.late_topic, settings.dead_letter_topic,
        )
    ]  # fmt: skip
    running = RunningJob(
        job, settings, Producer({"bootstrap.servers": kafka_bootstrap}), *readers, sent=[]
    )
    try:
        yield running
    finally:
        job.stop(savepoint=False)
        for reader in readers:
            reader.close()


# Event times of the first step: two closed windows, then one flight three minutes later
# that moves the watermark past both.
T0 = (int(time.time() * 1000) // MINUTE_MS - 30) * MINUTE_MS
STEP_ONE = [
    flight("f01", "ATL", "ORD", 5, T0 + 1_000),
    flight("f02", "ATL", "DFW", 20, T0 + 2_000),
    flight("f03", "ATL", "ORD", None, T0 + 3_000),
    flight("f04", "ORD", "ATL", 15, T0 + 4_000),
    flight("f05", "ORD", "XXX", -3, T0 + 5_000),
    flight("f06", "QQQ", "ATL", 100, T0 + MINUTE_MS + 1_000),
    flight("f07", "ATL", "SEA", 0, T0 + MINUTE_MS + 2_000),
    flight("a01", "SEA", "ATL", 1, T0 + 3 * MINUTE_MS),
]
WATERMARK_DELAY_MS = 2_000
GARBAGE = b"\x02\xff\xfenot avro"


@pytest.fixture(scope="module")
def step_one(running_job: RunningJob) -> RunningJob:
    running_job.send(*STEP_ONE[:5])
    running_job.send_invalid(GARBAGE)
    running_job.send(*STEP_ONE[5:])
    watermark = STEP_ONE[-1]["event_time"] - WATERMARK_DELAY_MS
    expected = expected_windows(STEP_ONE, watermark)
    running_job.enriched.wait_for(lambda m: len(m) >= len(STEP_ONE), "enriched flights")
    running_job.windows.wait_for(lambda m: len(m) >= len(expected), "window rows")
    running_job.dead_letters.wait_for(lambda m: len(m) >= 1, "the dead letter")
    return running_job


def test_enriched_rows_match_input(step_one: RunningJob) -> None:
    cities = {code: AIRPORTS[code][0] for code in AIRPORTS}
    rows = step_one.enriched_by_id()
    fields = [f["name"] for f in load_schema("flights_enriched")["fields"]]
    assert len(step_one.enriched.messages) == len(STEP_ONE)
    for record in STEP_ONE:
        row = rows[record["event_id"]]
        assert list(row) == fields
        assert row["enriched_at"] >= row["produced_at"] - 1_000_000
        expected = expected_enriched(record, cities)
        assert {k: v for k, v in row.items() if k != "enriched_at"} == expected


def test_unknown_airport_keeps_flight(step_one: RunningJob) -> None:
    rows = step_one.enriched_by_id()
    assert rows["f05"]["destination"] == "XXX"
    assert rows["f05"]["destination_city"] is None
    assert rows["f05"]["great_circle_miles"] is None
    assert rows["f05"]["origin_city"] == "Chicago"
    assert rows["f06"]["origin_city"] is None
    assert rows["f06"]["destination_city"] == "Atlanta"


def test_window_rows_match_input(step_one: RunningJob) -> None:
    watermark = STEP_ONE[-1]["event_time"] - WATERMARK_DELAY_MS
    expected = expected_windows(STEP_ONE, watermark)
    rows = step_one.windows.rows()
    fields = [f["name"] for f in load_schema("delays_by_airport_1m")["fields"]]
    assert all(list(row) == fields for row in rows)
    assert {window_key(row) for row in rows} == expected
    assert len(rows) == len(expected)


def test_idle_partition_does_not_stall_windows(step_one: RunningJob) -> None:
    consumer = Consumer({"bootstrap.servers": step_one.settings.bootstrap_servers, "group.id": "x"})
    low, high = consumer.get_watermark_offsets(TopicPartition(step_one.settings.flights_topic, 1))
    consumer.close()
    assert (low, high) == (0, 0)
    assert len(step_one.windows.messages) > 0


def test_undecodable_record_goes_to_dead_letters(step_one: RunningJob) -> None:
    [message] = step_one.dead_letters.messages
    headers = dict(message.headers())
    assert message.value() == GARBAGE
    assert message.key() == b"ATL"
    assert headers["error"].startswith(b"invalid Avro flight record")
    assert headers["source.topic"] == step_one.settings.flights_topic.encode()
    assert headers["source.partition"] == b"0"
    assert headers["source.offset"] == b"5"
    assert step_one.job.status() == "RUNNING"


def avro_long(number: int) -> bytes:
    """Encode `number` as an Avro long: zigzag, then a little-endian base-128 varint."""
    zigzag = (number << 1) ^ (number >> 63)
    out = bytearray()
    while zigzag > 0x7F:
        out.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    out.append(zigzag)
    return bytes(out)


def avro_string(data: bytes) -> bytes:
    return avro_long(len(data)) + data


VALID = encode("flight", flight("v01", "ATL", "ORD", 3, T0 + 10_000))
# event_id, departure, origin and destination of a flight, up to the delay_minutes union.
BEFORE_UNION = avro_string(b"b01") + avro_long(0) + avro_string(b"ATL") + avro_string(b"ORD")
INVALID_RECORDS = [
    (None, "record value is null"),
    (b"", "invalid Avro flight record: EOFException"),
    (VALID[:-1], "invalid Avro flight record: EOFException"),
    (VALID + b"\x00\x00", "invalid Avro flight record: 2 bytes after the record"),
    (
        BEFORE_UNION + avro_long(2) + b"\x00" * 8,
        "invalid Avro flight record: union index 2 of delay_minutes is not 0 (null) or 1 (int)",
    ),
    (avro_long(-1) + b"\x00" * 20, "invalid Avro flight record: negative length -1 of event_id"),
    (
        avro_long(2**40) + b"\x00" * 20,
        "invalid Avro flight record: length 1099511627776 of event_id exceeds the record size 26",
    ),
    # A UTF-16 surrogate, an overlong "/" and a truncated two-byte sequence.
    (
        avro_string(b"\xed\xa0\x80") + VALID[4:],
        "invalid Avro flight record: event_id is not valid UTF-8",
    ),
    (
        avro_string(b"\xc0\xaf") + VALID[4:],
        "invalid Avro flight record: event_id is not valid UTF-8",
    ),
    (avro_string(b"ab\xc3") + VALID[4:], "invalid Avro flight record: event_id is not valid UTF-8"),
]


def test_invalid_records_go_to_dead_letters(step_one: RunningJob) -> None:
    before = len(step_one.dead_letters.messages)
    # The latest event time so far: on time, and the watermark does not move.
    unicode_flight = flight("v-\u00e9\u2708\U0001d11e", "ATL", "ORD", 3, STEP_ONE[-1]["event_time"])
    for value, _ in INVALID_RECORDS:
        step_one.send_invalid(value)
    step_one.send(unicode_flight)
    wanted = before + len(INVALID_RECORDS)
    messages = step_one.dead_letters.wait_for(lambda m: len(m) >= wanted, "the dead letters")
    step_one.enriched.wait_for(lambda m: len(m) >= len(step_one.sent), "enriched flights")

    for message, (value, error) in zip(messages[before:], INVALID_RECORDS, strict=True):
        assert message.value() == value
        assert dict(message.headers())["error"].decode().startswith(error)
    assert (
        step_one.enriched_by_id()[unicode_flight["event_id"]]["event_id"]
        == (unicode_flight["event_id"])
    )
    assert step_one.job.status() == "RUNNING"


def test_late_event_goes_to_late_topic(step_one: RunningJob) -> None:
    late = flight("l01", "ATL", "ORD", 30, T0 + 30_000)
    step_one.send(late)
    # One more flight closes the window of a01, so the window rows below are complete.
    advance = flight("a02", "DFW", "ATL", 2, T0 + 6 * MINUTE_MS)
    step_one.send(advance)
    on_time = [r for r in step_one.sent if r["event_id"] != "l01"]
    watermark = advance["event_time"] - WATERMARK_DELAY_MS
    expected = expected_windows(on_time, watermark)
    step_one.windows.wait_for(lambda m: len(m) >= len(expected), "window rows")
    [row] = step_one.late.wait_for(lambda m: len(m) >= 1, "the late event")
    late_row = json.loads(row.value())

    assert late_row["event_id"] == "l01"
    assert late_row["event_time"] == late["event_time"]
    assert late_row["watermark"] >= late["event_time"]
    assert late_row["watermark"] <= STEP_ONE[-1]["event_time"] - WATERMARK_DELAY_MS
    assert {window_key(r) for r in step_one.windows.rows()} == expected
    step_one.enriched.wait_for(lambda m: len(m) >= len(step_one.sent), "enriched flights")
    assert "l01" in step_one.enriched_by_id()


def test_airport_update_applies_to_later_flights(step_one: RunningJob) -> None:
    base = T0 + 7 * MINUTE_MS
    publish_airports(step_one.settings.bootstrap_servers, step_one.settings.airports_topic,
                     {"ATL": "Atlanta Renamed"})  # fmt: skip
    # The update reaches the job within milliseconds; send probes until one shows it.
    for number in range(60):
        probe = flight(f"p{number:02d}", "ATL", "ORD", 1, base + number)
        step_one.send(probe)
        step_one.enriched.wait_for(
            lambda m, i=probe["event_id"]: i in {json.loads(x.value())["event_id"] for x in m},
            f"probe {probe['event_id']}",
        )
        if step_one.enriched_by_id()[probe["event_id"]]["origin_city"] == "Atlanta Renamed":
            break
        time.sleep(0.2)
    else:
        pytest.fail("no flight showed the airport update")

    after = [flight(f"u{n}", "ORD", "ATL", 1, base + 1_000 + n) for n in range(3)]
    step_one.send(*after)
    step_one.enriched.wait_for(lambda m: len(m) >= len(step_one.sent), "enriched flights")
    rows = step_one.enriched_by_id()
    for record in after:
        assert rows[record["event_id"]]["destination_city"] == "Atlanta Renamed"
    assert rows["f01"]["origin_city"] == "Atlanta"


def test_counters_count_records_and_unknown_airports(step_one: RunningJob) -> None:
    # STEP_ONE has two codes missing from the dimension (XXX, QQQ); later steps have none.
    expected = {
        "flightRecords": len(step_one.sent) + step_one.invalid_sent,
        "invalidFlightRecords": step_one.invalid_sent,
        "unknownAirportCodes": 2,
    }
    step_one.enriched.wait_for(lambda m: len(m) >= len(step_one.sent), "enriched flights")
    # The REST API refreshes metrics every 10 s (metrics.fetcher.update-interval).
    deadline = time.monotonic() + 30
    counters = step_one.job.counters()
    while counters != expected and time.monotonic() < deadline:
        time.sleep(1)
        counters = step_one.job.counters()
    assert counters["flightRecords"] == expected["flightRecords"]
    assert counters["invalidFlightRecords"] == expected["invalidFlightRecords"]
    assert counters["unknownAirportCodes"] == expected["unknownAirportCodes"]


def test_source_schema_equals_flight_avsc(running_job: RunningJob) -> None:
    """The row type Flink derives for the decoded flights, as Avro, is schemas/flight.avsc."""
    from pyflink.java_gateway import get_gateway
    from pyflink.table import EnvironmentSettings, TableEnvironment

    environment.prepare_python_path()
    table_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    for key, value in environment.flink_options(running_job.settings, None).items():
        table_env.get_config().set(key, value)
    for statement in running_job.job.statements():
        if statement.file in ("functions.sql", "kafka_source.sql") and not statement.is_insert:
            table_env.execute_sql(statement.text)
    names = [f["name"] for f in load_schema("flight")["fields"]]
    table = table_env.sql_query(f"SELECT {', '.join(names)} FROM flights")
    row_type = table._j_table.getResolvedSchema().toPhysicalRowDataType().getLogicalType()
    converter = get_gateway().jvm.org.apache.flink.formats.avro.typeutils.AvroSchemaConverter
    derived = json.loads(converter.convertToSchema(row_type, False).toString())

    def strip_docs(schema: dict[str, Any]) -> dict[str, Any]:
        fields = [{k: v for k, v in f.items() if k != "doc"} for f in schema["fields"]]
        return {**{k: v for k, v in schema.items() if k != "doc"}, "fields": fields}

    assert strip_docs(derived) == strip_docs(load_schema("flight"))


def test_functions_jar_rebuilds_after_edit(
    artifact_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    java_dir = tmp_path / "java"
    shutil.copytree(functions_jar.JAVA_DIR, java_dir)
    monkeypatch.setattr(functions_jar, "SOURCE_DIR", java_dir / "src")
    monkeypatch.setattr(functions_jar, "RESOURCE_DIR", java_dir / "resources")
    cache = tmp_path / "cache"
    (cache / "flink").mkdir(parents=True)
    for jar in artifacts.require(artifact_cache, "flink"):
        (cache / "flink" / jar.name).symlink_to(jar)

    first = functions_jar.build(cache)
    built_at = first.stat().st_mtime_ns
    again = functions_jar.build(cache)
    decoder = java_dir / "src" / "rtpath" / "flink" / "FlightDecoder.java"
    decoder.write_text(decoder.read_text() + "// edited\n")
    edited = functions_jar.build(cache)

    with zipfile.ZipFile(first) as jar:
        names = set(jar.namelist())
    assert "rtpath/flink/FlightDecoder.class" in names
    assert "rtpath/flink/GreatCircleMiles.class" in names
    assert "rtpath/flink/flight.avsc" in names
    assert "META-INF/services/org.apache.flink.table.factories.Factory" in names
    assert again == first
    assert again.stat().st_mtime_ns == built_at
    assert edited != first
    assert edited.name.startswith("rtpath-flink-functions-")


def test_restart_resumes_from_savepoint(
    kafka_bootstrap: str,
    artifact_cache: Path,
    tmp_path: Path,
    module_topics: Callable[..., str],
) -> None:
    settings = job_settings(tmp_path, artifact_cache, kafka_bootstrap, module_topics)
    publish_airports(kafka_bootstrap, settings.airports_topic, {"ATL": "Atlanta"})
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    enriched = TopicReader(kafka_bootstrap, settings.enriched_topic)

    def send(records: list[dict[str, Any]]) -> None:
        for record in records:
            producer.produce(
                settings.flights_topic, key=b"ATL", value=encode("flight", record), partition=0
            )
        producer.flush(30)

    before = [flight(f"b{n}", "ATL", "ORD", n, T0 + n) for n in range(5)]
    while_stopped = [flight(f"s{n}", "ATL", "ORD", n, T0 + 100 + n) for n in range(5)]
    first = FlightsJob(settings)
    first.start()
    try:
        send(before)
        enriched.wait_for(lambda m: len(m) >= len(before), "flights sent before the stop")
    finally:
        savepoint = first.stop()
    send(while_stopped)

    second = FlightsJob(settings)
    second.start()
    try:
        wanted = {r["event_id"] for r in before + while_stopped}
        enriched.wait_for(
            lambda m: wanted <= {json.loads(x.value())["event_id"] for x in m},
            "every flight after the restart",
        )
    finally:
        second.stop(savepoint=False)
        enriched.close()
    assert savepoint is not None
    assert second.recovered_from is not None
    assert second.recovered_from.name == savepoint.rstrip("/").rsplit("/", 1)[-1]
