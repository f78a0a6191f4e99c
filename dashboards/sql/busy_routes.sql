-- Busiest routes with average delay
-- Origin and destination pairs ranked by flights over the window that ends at `until`.
-- @param minutes UInt32 = 60: Length of the window in minutes.
-- @param limit UInt32 = 20: Number of routes to return.
-- @param until Nullable(DateTime64(3, 'UTC')) = NULL: End of the window (ISO 8601 with a zone), or NULL for now.
WITH ifNull({until:Nullable(DateTime64(3, 'UTC'))}, now64(3, 'UTC')) AS window_end
SELECT
    origin,
    destination,
    count() AS flights,
    countIf(delay_minutes >= 15) / flights AS delayed_share,
    avg(delay_minutes) AS avg_delay_minutes,
    any(distance_miles) AS distance_miles
FROM flights_enriched
WHERE event_time >= window_end - toIntervalMinute({minutes:UInt32})
  AND event_time < window_end
GROUP BY origin, destination
ORDER BY flights DESC, origin, destination
LIMIT {limit:UInt32}
