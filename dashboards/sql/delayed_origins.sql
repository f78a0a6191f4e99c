-- Most delayed origin airports in the last N minutes
-- Origin airports ranked by average departure delay over the window that ends at `until`.
-- A flight counts as delayed at 15 minutes or more. Flights without a delay value count in
-- `flights` but not in the averages.
-- @param minutes UInt32 = 15: Length of the window in minutes.
-- @param min_flights UInt32 = 5: Airports with fewer flights in the window are left out.
-- @param limit UInt32 = 10: Number of airports to return.
-- @param until Nullable(DateTime64(3, 'UTC')) = NULL: End of the window (ISO 8601 with a zone), or NULL for now.
WITH ifNull({until:Nullable(DateTime64(3, 'UTC'))}, now64(3, 'UTC')) AS window_end
SELECT
    origin,
    any(origin_city) AS origin_city,
    count() AS flights,
    countIf(delay_minutes >= 15) AS delayed_flights,
    avg(delay_minutes) AS avg_delay_minutes,
    max(delay_minutes) AS max_delay_minutes
FROM flights_enriched
WHERE event_time >= window_end - toIntervalMinute({minutes:UInt32})
  AND event_time < window_end
GROUP BY origin
HAVING flights >= {min_flights:UInt32}
ORDER BY avg_delay_minutes DESC, origin
LIMIT {limit:UInt32}
