"""Settings of `rtpath bench produce`, apart so the CLI can parse them without numpy or Arrow."""

from pydantic import Field

from producers.settings import FlightProducerSettings


class ProduceBenchSettings(FlightProducerSettings):
    """Settings of `rtpath bench produce`."""

    events: int = Field(3_000_000, ge=1, description="Events each producer sends.")
