-- Pipeline freshness over the last minute
-- Time from the producer stamping a flight (`produced_at`) to the row becoming visible in
-- ClickHouse (`inserted_at`), in milliseconds, over the rows inserted in the window that ends
-- at `until`. Percentiles are exact (quantileExact), so memory grows with the window's rows.
-- @param seconds UInt32 = 60: Length of the window in seconds.
-- @param until Nullable(DateTime64(3, 'UTC')) = NULL: End of the window (ISO 8601 with a zone), or NULL for now.
WITH
    ifNull({until:Nullable(DateTime64(3, 'UTC'))}, now64(3, 'UTC')) AS window_end,
    dateDiff('microsecond', produced_at, inserted_at) / 1000 AS freshness_ms
SELECT
    count() AS row_count,
    quantileExact(0.5)(freshness_ms) AS p50_ms,
    quantileExact(0.95)(freshness_ms) AS p95_ms,
    quantileExact(0.99)(freshness_ms) AS p99_ms,
    max(freshness_ms) AS max_ms
FROM flights_enriched
WHERE inserted_at >= window_end - toIntervalSecond({seconds:UInt32})
  AND inserted_at < window_end
