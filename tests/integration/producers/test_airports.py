"""The airports producer: a full load and a single update on a compacted topic."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import load_settings
from producers.airports import latest_airports, load_airports, update_airport
from producers.settings import AirportProducerSettings

pytestmark = pytest.mark.integration

CSV = """iata,name,city,state,country,latitude,longitude
ORD,Chicago O'Hare International,Chicago,IL,USA,41.979595,-87.904464
ATL,William B Hartsfield-Atlanta Intl,Atlanta,GA,USA,33.640444,-84.426944
BAD,Nowhere,,,,95.0,10.0
SEA,Seattle-Tacoma Intl,Seattle,WA,USA,47.449,-122.309306
"""


@pytest.fixture
def airport_settings(
    tmp_path: Path, kafka_bootstrap: str, make_topic: Callable[..., str]
) -> AirportProducerSettings:
    path = tmp_path / "airports.csv"
    path.write_text(CSV)
    topic = make_topic("airports", 1, {"cleanup.policy": "compact"})
    return load_settings(
        AirportProducerSettings, kafka_bootstrap=kafka_bootstrap, topic=topic, input=path
    )


def test_load_then_update_one_airport(airport_settings: AirportProducerSettings) -> None:
    summary = load_airports(airport_settings)

    assert (summary.sent, summary.delivered, summary.rejected, summary.lost) == (3, 3, 1, 0)
    latest = latest_airports(airport_settings.bootstrap_servers, airport_settings.topic)
    assert sorted(latest) == ["ATL", "ORD", "SEA"]
    assert latest["ORD"]["latitude"] == 41.979595
    assert latest["ORD"]["city"] == "Chicago"

    moment = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
    update_airport(airport_settings, "ORD", {"city": "Chicago IL", "state": ""}, moment)

    after = latest_airports(airport_settings.bootstrap_servers, airport_settings.topic)
    assert after["ORD"]["city"] == "Chicago IL"
    assert after["ORD"]["state"] is None
    assert after["ORD"]["name"] == "Chicago O'Hare International"
    assert after["ORD"]["updated_at"] == 1_767_323_045_006
    assert after["SEA"] == latest["SEA"]


def test_update_rejects_bad_values(airport_settings: AirportProducerSettings) -> None:
    load_airports(airport_settings)

    with pytest.raises(ConfigError, match="latitude '91' is outside -90 to 90"):
        update_airport(airport_settings, "ORD", {"latitude": "91"})
    with pytest.raises(ConfigError, match="airport 'XXX' not found"):
        update_airport(airport_settings, "XXX", {"city": "Nowhere"})
    with pytest.raises(ConfigError, match="naive datetime"):
        update_airport(airport_settings, "ORD", {"city": "x"}, datetime(2026, 1, 2))
