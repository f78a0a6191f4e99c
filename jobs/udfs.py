"""Python functions the SQL calls: `decode_flight` and `enrich_flight`.

Both run in PyFlink's `thread` execution mode, inside the TaskManager JVM, so each call
costs a few microseconds instead of a round trip to a separate Python process. The SQL in
`jobs/sql/functions.sql` registers them by their module path.
"""

import io
import logging
import time
from collections.abc import Iterator
from typing import Any, cast

from fastavro import parse_schema, schemaless_reader
from pyflink.table import DataTypes, Row
from pyflink.table.udf import FunctionContext, TableFunction, udf, udtf

from core.schemas import load_schema
from jobs.dimension import Airport, AirportDimension
from jobs.geo import great_circle_miles

logger = logging.getLogger(__name__)

# Job parameters (`pipeline.global-job-parameters`) that tell `enrich_flight` where the
# airport dimension is.
BOOTSTRAP_PARAMETER = "rtpath.kafka.bootstrap"
AIRPORTS_TOPIC_PARAMETER = "rtpath.airports.topic"

# The fields of schemas/flight.avsc in order, with the same nullability, then `error`.
# An invalid record gives a row with `error` set and placeholder values (empty strings,
# zeros) in the fields that cannot be null.
#
# Two fields have other types than in SQL, because in thread mode PyFlink 2.2.1 converts
# the fields of a returned row wrongly: an INT field without a null check (so a null
# delay_minutes raises NullPointerException) and a TIMESTAMP field from java.sql.Timestamp
# where LocalDateTime is expected (ClassCastException). So delay_minutes is BIGINT and
# departure is the raw Avro long (milliseconds of local wall-clock time since the epoch);
# the SQL casts them back.
FLIGHT_ROW = DataTypes.ROW(
    [
        DataTypes.FIELD("event_id", DataTypes.STRING(False)),
        DataTypes.FIELD("departure", DataTypes.BIGINT(False)),
        DataTypes.FIELD("origin", DataTypes.STRING(False)),
        DataTypes.FIELD("destination", DataTypes.STRING(False)),
        DataTypes.FIELD("delay_minutes", DataTypes.BIGINT()),
        DataTypes.FIELD("distance_miles", DataTypes.INT(False)),
        DataTypes.FIELD("event_time", DataTypes.BIGINT(False)),
        DataTypes.FIELD("produced_at", DataTypes.BIGINT(False)),
        DataTypes.FIELD("is_synthetic", DataTypes.BOOLEAN(False)),
        DataTypes.FIELD("replay_round", DataTypes.INT(False)),
        DataTypes.FIELD("error", DataTypes.STRING()),
    ],
    nullable=False,
)

# schemas/flight.avsc without the logical type of `departure`: the same binary encoding,
# read as the plain long that FLIGHT_ROW carries instead of a datetime.
_FLIGHT_READER_SCHEMA = parse_schema(
    {
        **load_schema("flight"),
        "fields": [
            {**field, "type": "long"} if field["name"] == "departure" else field
            for field in load_schema("flight")["fields"]
        ],
    }
)

# The columns enrich_flight adds: city, state, latitude and longitude of the origin, the
# same of the destination, then the great-circle distance in miles.
AIRPORT_COLUMNS = [
    DataTypes.STRING(),
    DataTypes.STRING(),
    DataTypes.DOUBLE(),
    DataTypes.DOUBLE(),
    DataTypes.STRING(),
    DataTypes.STRING(),
    DataTypes.DOUBLE(),
    DataTypes.DOUBLE(),
    DataTypes.DOUBLE(),
]


def decode_flight_value(value: bytes | None) -> Row:
    """Decode one Avro flight record; on any failure return a row with `error` set."""
    if value is None:
        return _invalid("record value is null")
    buffer = io.BytesIO(value)
    try:
        record = cast(dict[str, Any], schemaless_reader(buffer, _FLIGHT_READER_SCHEMA, None))
    except Exception as exc:  # every decoding failure goes to the dead letters
        return _invalid(f"invalid Avro flight record: {type(exc).__name__}: {exc}")
    if buffer.tell() != len(value):
        return _invalid(
            f"invalid Avro flight record: {len(value) - buffer.tell()} bytes after the record"
        )
    return Row(
        record["event_id"],
        record["departure"],
        record["origin"],
        record["destination"],
        record["delay_minutes"],
        record["distance_miles"],
        record["event_time"],
        record["produced_at"],
        record["is_synthetic"],
        record["replay_round"],
        None,
    )


def _invalid(error: str) -> Row:
    return Row("", 0, "", "", None, 0, 0, 0, False, 0, error)


def airport_attributes(origin: Airport | None, destination: Airport | None) -> Row:
    """Build the airport columns of an enriched flight; unknown airports give nulls."""
    values: list[Any] = []
    for airport in (origin, destination):
        if airport is None:
            values += [None, None, None, None]
        else:
            values += [airport.city, airport.state, airport.latitude, airport.longitude]
    distance = None
    if origin is not None and destination is not None:
        distance = great_circle_miles(
            origin.latitude, origin.longitude, destination.latitude, destination.longitude
        )
    return Row(*values, distance)


class EnrichFlight(TableFunction):  # type: ignore[misc]
    """Look up both airports of a flight in the dimension read from the airports topic.

    A table function that emits exactly one row per call. A scalar function returning a row
    would be simpler, but Flink 2.2.1 fails to plan a query that reads fields of its result
    next to other columns (IndexOutOfBoundsException in RemoteCalcSplitRule).
    """

    def __init__(self) -> None:
        self._dimension: AirportDimension | None = None
        self._calls = 0
        self._started = 0.0

    def open(self, function_context: FunctionContext) -> None:
        bootstrap = function_context.get_job_parameter(BOOTSTRAP_PARAMETER, "")
        topic = function_context.get_job_parameter(AIRPORTS_TOPIC_PARAMETER, "")
        if not bootstrap or not topic:
            raise RuntimeError(
                f"enrich_flight needs the job parameters {BOOTSTRAP_PARAMETER} and "
                f"{AIRPORTS_TOPIC_PARAMETER}; start the job with `rtpath job run`"
            )
        self._dimension = AirportDimension(bootstrap, topic)
        self._dimension.load()
        self._started = time.monotonic()

    def eval(self, origin: str | None, destination: str | None) -> Iterator[Row]:
        dimension = self._dimension
        assert dimension is not None, "open() was not called"
        self._calls += 1
        dimension.refresh()
        yield airport_attributes(dimension.lookup(origin), dimension.lookup(destination))

    def close(self) -> None:
        if self._dimension is not None:
            logger.info(
                "enrich_flight enriched %d flights in %.0f s; %d airport lookups missed",
                self._calls, time.monotonic() - self._started, self._dimension.unknown_lookups,
            )  # fmt: skip
            self._dimension.close()


decode_flight = udf(decode_flight_value, result_type=FLIGHT_ROW)
enrich_flight = udtf(EnrichFlight(), result_types=AIRPORT_COLUMNS)
