"""Great-circle distance between two points on the Earth."""

import math

# Mean Earth radius (IUGG) in statute miles, the unit of the flights' `distance_miles`.
EARTH_RADIUS_MILES = 3958.7613


def great_circle_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the haversine distance in miles between two points given in decimal degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))
