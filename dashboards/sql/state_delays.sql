-- Flights and delayed share per state in the last minute
-- Read from the rollup ClickHouse maintains itself (a materialized view into an
-- AggregatingMergeTree of 10-second buckets), so the cost does not grow with flights.
-- The window covers whole buckets that start in [until - seconds, until).
-- @param seconds UInt32 = 60: Length of the window in seconds.
-- @param until Nullable(DateTime64(3, 'UTC')) = NULL: End of the window (ISO 8601 with a zone), or NULL for now.
WITH ifNull({until:Nullable(DateTime64(3, 'UTC'))}, now64(3, 'UTC')) AS window_end
SELECT
    origin_state AS state,
    sum(flights) AS flights,
    sum(delayed_flights) AS delayed_flights,
    delayed_flights / flights AS delayed_share,
    avgMerge(delay_minutes_avg) AS avg_delay_minutes,
    max(delay_minutes_max) AS max_delay_minutes
FROM flights_by_state_10s
WHERE window_start >= window_end - toIntervalSecond({seconds:UInt32})
  AND window_start < window_end
GROUP BY state
ORDER BY flights DESC, state
