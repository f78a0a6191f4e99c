"""Names of the Kafka topics that connect the stages."""

FLIGHTS = "flights"
AIRPORTS = "airports"
FLIGHTS_ENRICHED = "flights_enriched"
DELAYS_BY_AIRPORT_1M = "delays_by_airport_1m"
FLIGHTS_LATE = "flights_late"


def dead_letter_topic(topic: str) -> str:
    """Return the dead-letter topic that receives the rejected records of `topic`."""
    return f"{topic}.dlq"
