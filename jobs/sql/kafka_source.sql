-- The `flights` topic, decoded by the value format `rtpath-flight-avro` (FlightDecoder in
-- jobs/java/src/rtpath/flink).
--
-- Flink's `avro` format fails the job on the first record it cannot decode and has no
-- option to skip it. `rtpath-flight-avro` turns such a record into a row with `error` set
-- and the record unchanged in `value`, which goes to the dead-letter topic below. Valid
-- records have null `error` and `value`. Decoding happens once per record in the Kafka
-- source, so the watermark is assigned there, per partition.
CREATE TABLE flights_raw (
    `key` BYTES,
    event_id STRING NOT NULL,
    departure TIMESTAMP(3) NOT NULL,
    origin STRING NOT NULL,
    destination STRING NOT NULL,
    delay_minutes INT,
    distance_miles INT NOT NULL,
    event_time BIGINT NOT NULL,
    produced_at BIGINT NOT NULL,
    is_synthetic BOOLEAN NOT NULL,
    replay_round INT NOT NULL,
    error STRING,
    `value` BYTES,
    `partition` INT METADATA VIRTUAL,
    `offset` BIGINT METADATA VIRTUAL,
    rt AS TO_TIMESTAMP_LTZ(event_time, 3),
    -- Events reach the broker within 2 s of their event_time, out of order by less.
    WATERMARK FOR rt AS rt - INTERVAL '2' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = '${flights_topic}',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}',
    'scan.startup.mode' = 'group-offsets',
    'properties.auto.offset.reset' = 'earliest',
    'key.format' = 'raw',
    'key.fields' = 'key',
    'value.format' = 'rtpath-flight-avro',
    'value.fields-include' = 'EXCEPT_KEY'
);

-- Decoded flights. The columns up to replay_round are those of schemas/flight.avsc.
CREATE VIEW flights AS
SELECT
    event_id,
    departure,
    origin,
    destination,
    delay_minutes,
    distance_miles,
    event_time,
    produced_at,
    is_synthetic,
    replay_round,
    rt
FROM flights_raw
WHERE error IS NULL;

-- Undecodable records, unchanged, with the error and their source position in headers.
CREATE TABLE flights_dead_letters (
    `key` BYTES,
    `value` BYTES,
    `headers` MAP<STRING, BYTES> METADATA
) WITH (
    'connector' = 'kafka',
    'topic' = '${dead_letter_topic}',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'sink.delivery-guarantee' = 'at-least-once',
    'key.format' = 'raw',
    'key.fields' = 'key',
    'value.format' = 'raw',
    'value.fields-include' = 'EXCEPT_KEY'
);

INSERT INTO flights_dead_letters
SELECT
    `key`,
    `value`,
    MAP[
        'error', ENCODE(error, 'UTF-8'),
        'source.topic', ENCODE('${flights_topic}', 'UTF-8'),
        'source.partition', ENCODE(CAST(`partition` AS STRING), 'UTF-8'),
        'source.offset', ENCODE(CAST(`offset` AS STRING), 'UTF-8')
    ]
FROM flights_raw
WHERE error IS NOT NULL;
