-- Delay trend per minute for one airport over the last hour
-- One row per closed one-minute window of the origin airport, from the windows Flink emits.
-- A window delivered twice counts once (FINAL keeps the row emitted last).
-- @param airport String: Origin airport code, for example ORD.
-- @param minutes UInt32 = 60: Length of the period in minutes.
-- @param until Nullable(DateTime64(3, 'UTC')) = NULL: End of the period (ISO 8601 with a zone), or NULL for now.
WITH ifNull({until:Nullable(DateTime64(3, 'UTC'))}, now64(3, 'UTC')) AS period_end
SELECT
    window_start,
    flights,
    delayed_flights,
    delayed_flights / flights AS delayed_share,
    avg_delay_minutes,
    max_delay_minutes
FROM delays_by_airport_1m FINAL
WHERE origin = {airport:String}
  AND window_start >= period_end - toIntervalMinute({minutes:UInt32})
  AND window_start < period_end
ORDER BY window_start
