-- The sinks of kafka_sinks.sql with the same columns, discarding every row, for the
-- benchmark that runs the job's SQL on generated rows.
CREATE TABLE flights_enriched_sink (
    event_id STRING NOT NULL,
    departure STRING NOT NULL,
    origin STRING NOT NULL,
    destination STRING NOT NULL,
    delay_minutes INT,
    distance_miles INT NOT NULL,
    origin_city STRING,
    origin_state STRING,
    origin_latitude DOUBLE,
    origin_longitude DOUBLE,
    destination_city STRING,
    destination_state STRING,
    destination_latitude DOUBLE,
    destination_longitude DOUBLE,
    great_circle_miles DOUBLE,
    event_time BIGINT NOT NULL,
    produced_at BIGINT NOT NULL,
    enriched_at BIGINT NOT NULL,
    is_synthetic BOOLEAN NOT NULL,
    replay_round INT NOT NULL
) WITH (
    'connector' = 'blackhole'
);

CREATE TABLE delays_by_airport_1m_sink (
    origin STRING NOT NULL,
    window_start BIGINT NOT NULL,
    window_end BIGINT NOT NULL,
    flights BIGINT NOT NULL,
    delayed_flights BIGINT NOT NULL,
    avg_delay_minutes DOUBLE,
    max_delay_minutes INT,
    max_produced_at BIGINT NOT NULL,
    emitted_at BIGINT NOT NULL
) WITH (
    'connector' = 'blackhole'
);

CREATE TABLE flights_late_sink (
    event_id STRING NOT NULL,
    departure STRING NOT NULL,
    origin STRING NOT NULL,
    destination STRING NOT NULL,
    delay_minutes INT,
    distance_miles INT NOT NULL,
    event_time BIGINT NOT NULL,
    produced_at BIGINT NOT NULL,
    is_synthetic BOOLEAN NOT NULL,
    replay_round INT NOT NULL,
    `watermark` BIGINT NOT NULL
) WITH (
    'connector' = 'blackhole'
);
