"""The Python function the SQL calls: `enrich_flight`.

It runs in PyFlink's `thread` execution mode, inside the TaskManager JVM, so each call
costs a few microseconds instead of a round trip to a separate Python process. The SQL in
`jobs/sql/functions.sql` registers it by its module path. Decoding and the great-circle
distance are Java code, in `jobs/java/src`.
"""

import logging
import time
from collections.abc import Iterator
from typing import Any

from pyflink.table import DataTypes, Row
from pyflink.table.udf import FunctionContext, TableFunction, udtf

from jobs.dimension import Airport, AirportDimension

logger = logging.getLogger(__name__)

# Job parameters (`pipeline.global-job-parameters`) that tell `enrich_flight` where the
# airport dimension is.
BOOTSTRAP_PARAMETER = "rtpath.kafka.bootstrap"
AIRPORTS_TOPIC_PARAMETER = "rtpath.airports.topic"

# The columns enrich_flight adds: city, state, latitude and longitude of the origin, then
# the same of the destination. The SQL computes the distance from the latitudes and
# longitudes with the Java function great_circle_miles.
AIRPORT_COLUMNS = [
    DataTypes.STRING(),
    DataTypes.STRING(),
    DataTypes.DOUBLE(),
    DataTypes.DOUBLE(),
    DataTypes.STRING(),
    DataTypes.STRING(),
    DataTypes.DOUBLE(),
    DataTypes.DOUBLE(),
]


def airport_attributes(origin: Airport | None, destination: Airport | None) -> Row:
    """Build the airport columns of an enriched flight; unknown airports give nulls."""
    values: list[Any] = []
    for airport in (origin, destination):
        if airport is None:
            values += [None, None, None, None]
        else:
            values += [airport.city, airport.state, airport.latitude, airport.longitude]
    return Row(*values)


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


enrich_flight = udtf(EnrichFlight(), result_types=AIRPORT_COLUMNS)
