-- A generated `flights` view with the columns of kafka_source.sql, for the benchmark that
-- compares the Kafka-fed job with the same SQL on generated rows. Rows need no decoding:
-- the difference to the Kafka-fed job is the Kafka source with its value format
-- rtpath-flight-avro, and the dead letters.
CREATE TABLE flights_generated (
    seq BIGINT NOT NULL,
    delay_minutes INT,
    distance_miles INT NOT NULL,
    -- Event time advances 1 ms per 10 rows, so one minute of event time contains 600,000 rows.
    rt AS TO_TIMESTAMP_LTZ(${start_ms} + seq / 10, 3),
    WATERMARK FOR rt AS rt - INTERVAL '2' SECOND
) WITH (
    'connector' = 'datagen',
    'rows-per-second' = '${rows_per_second}',
    'fields.seq.kind' = 'sequence',
    'fields.seq.start' = '1',
    'fields.seq.end' = '${rows}',
    'fields.delay_minutes.min' = '-30',
    'fields.delay_minutes.max' = '120',
    'fields.distance_miles.min' = '100',
    'fields.distance_miles.max' = '2500'
);

-- The five busiest origins of the flight data and five destinations, all in airports.csv.
CREATE VIEW flights AS
SELECT
    CAST(seq AS STRING) AS event_id,
    TIMESTAMP '2001-01-01 06:00:00.000' AS departure,
    CASE MOD(seq, 5)
        WHEN 0 THEN 'ORD' WHEN 1 THEN 'DFW' WHEN 2 THEN 'ATL' WHEN 3 THEN 'LAX' ELSE 'DEN'
    END AS origin,
    CASE MOD(seq, 7)
        WHEN 0 THEN 'SEA' WHEN 1 THEN 'BOS' WHEN 2 THEN 'MIA' WHEN 3 THEN 'PHX' ELSE 'JFK'
    END AS destination,
    delay_minutes,
    distance_miles,
    ${start_ms} + seq / 10 AS event_time,
    (${start_ms} + seq / 10) * 1000 AS produced_at,
    TRUE AS is_synthetic,
    0 AS replay_round,
    rt
FROM flights_generated;
