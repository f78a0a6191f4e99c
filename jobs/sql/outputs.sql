-- What the job writes. Runs after a source file (the `flights` view), an enrich file (the
-- `flights_enriched_rows` view) and a sinks file (the three *_sink tables).

-- Every decoded flight, late or not, with its airports; not held back by the watermark.
-- enriched_at has millisecond precision, in microseconds.
INSERT INTO flights_enriched_sink
SELECT
    event_id,
    CAST(departure AS STRING),
    origin,
    destination,
    delay_minutes,
    distance_miles,
    origin_city,
    origin_state,
    origin_latitude,
    origin_longitude,
    destination_city,
    destination_state,
    destination_latitude,
    destination_longitude,
    great_circle_miles,
    event_time,
    produced_at,
    (EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 + EXTRACT(MILLISECOND FROM CURRENT_TIMESTAMP))
        * 1000,
    is_synthetic,
    replay_round
FROM flights_enriched_rows;

-- A flight is late when its rowtime is at or behind the watermark: the window operator
-- would drop it. Late flights go to the late topic instead of the windows, so each flight
-- is counted in exactly one of the two.
INSERT INTO flights_late_sink
SELECT
    event_id,
    CAST(departure AS STRING),
    origin,
    destination,
    delay_minutes,
    distance_miles,
    event_time,
    produced_at,
    is_synthetic,
    replay_round,
    EXTRACT(EPOCH FROM CURRENT_WATERMARK(rt)) * 1000
        + EXTRACT(MILLISECOND FROM CURRENT_WATERMARK(rt))
FROM flights
WHERE rt <= CURRENT_WATERMARK(rt);

CREATE VIEW flights_on_time AS
SELECT *
FROM flights
WHERE CURRENT_WATERMARK(rt) IS NULL OR rt > CURRENT_WATERMARK(rt);

-- One row per origin and closed one-minute event-time window, emitted once the watermark
-- passes the window end. emitted_at has millisecond precision, in microseconds.
INSERT INTO delays_by_airport_1m_sink
SELECT
    origin,
    window_start_ms,
    window_end_ms,
    flights,
    delayed_flights,
    avg_delay_minutes,
    max_delay_minutes,
    max_produced_at,
    (EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 + EXTRACT(MILLISECOND FROM CURRENT_TIMESTAMP))
        * 1000
FROM (
    SELECT
        origin,
        EXTRACT(EPOCH FROM window_start) * 1000 AS window_start_ms,
        EXTRACT(EPOCH FROM window_end) * 1000 AS window_end_ms,
        COUNT(*) AS flights,
        COUNT(*) FILTER (WHERE delay_minutes >= 15) AS delayed_flights,
        AVG(CAST(delay_minutes AS DOUBLE)) AS avg_delay_minutes,
        MAX(delay_minutes) AS max_delay_minutes,
        MAX(produced_at) AS max_produced_at
    FROM TABLE(TUMBLE(TABLE flights_on_time, DESCRIPTOR(rt), INTERVAL '1' MINUTE))
    GROUP BY window_start, window_end, origin
);
