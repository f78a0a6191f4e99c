-- The output topics, one JSON object per message with exactly the fields of
-- schemas/flights_enriched.avsc and schemas/delays_by_airport_1m.avsc; the key is the
-- origin code. At-least-once: rows are visible at once, and a restart may repeat some.
-- The producer waits up to 5 ms (linger.ms) to batch records.
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
    'connector' = 'kafka',
    'topic' = '${enriched_topic}',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.linger.ms' = '5',
    'properties.batch.size' = '262144',
    'sink.delivery-guarantee' = 'at-least-once',
    'key.format' = 'raw',
    'key.fields' = 'origin',
    'value.format' = 'json',
    'value.fields-include' = 'ALL'
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
    'connector' = 'kafka',
    'topic' = '${windows_topic}',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.linger.ms' = '5',
    'properties.batch.size' = '262144',
    'sink.delivery-guarantee' = 'at-least-once',
    'key.format' = 'raw',
    'key.fields' = 'origin',
    'value.format' = 'json',
    'value.fields-include' = 'ALL'
);

-- Flights whose rowtime was at or behind the watermark when they arrived: the flight's
-- fields (departure as text, like flights_enriched) and the watermark, epoch milliseconds.
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
    'connector' = 'kafka',
    'topic' = '${late_topic}',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.linger.ms' = '5',
    'properties.batch.size' = '262144',
    'sink.delivery-guarantee' = 'at-least-once',
    'key.format' = 'raw',
    'key.fields' = 'origin',
    'value.format' = 'json',
    'value.fields-include' = 'ALL'
);
