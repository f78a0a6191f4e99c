-- One-minute delay windows per origin airport. Flink may deliver a window again after a
-- restart, so the table replaces rows of the same (origin, window_start) and keeps the one
-- emitted last. Queries read it deduplicated, with FINAL or argMax(..., emitted_at).

CREATE TABLE IF NOT EXISTS delays_by_airport_1m
(
    origin LowCardinality(String) COMMENT 'IATA code of the origin airport.',
    window_start DateTime64(3, 'UTC') COMMENT 'Start of the event-time window, inclusive.',
    window_end DateTime64(3, 'UTC') COMMENT 'End of the event-time window, exclusive.',
    flights Int64 COMMENT 'Flights in the window.',
    delayed_flights Int64 COMMENT 'Flights with a delay of 15 minutes or more.',
    avg_delay_minutes Nullable(Float64) COMMENT 'Average delay in minutes, null when no flight of the window has a delay value.',
    max_delay_minutes Nullable(Int32) COMMENT 'Largest delay in minutes, null when no flight of the window has a delay value.',
    max_produced_at DateTime64(6, 'UTC') COMMENT 'Largest produced_at of the flights in the window.',
    emitted_at DateTime64(6, 'UTC') COMMENT 'Wall-clock time Flink emitted the window; the latest emission replaces earlier ones.',
    kafka_topic LowCardinality(String) COMMENT 'Kafka topic the row was read from.',
    kafka_partition Int32 COMMENT 'Kafka partition the row was read from.',
    kafka_offset Int64 COMMENT 'Kafka offset of the row; the sink resumes after the largest one per partition.',
    inserted_at DateTime64(6, 'UTC') DEFAULT now64(6, 'UTC') COMMENT 'Time the row became visible to queries; window lag is inserted_at minus window_end.'
)
ENGINE = ReplacingMergeTree(emitted_at)
ORDER BY (origin, window_start)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Closed one-minute event-time windows of delays per origin airport; read with FINAL so a re-delivered window counts once.';

CREATE TABLE IF NOT EXISTS delays_by_airport_1m_ingest
(
    origin String COMMENT 'See delays_by_airport_1m.origin.',
    window_start Int64 COMMENT 'Epoch milliseconds UTC.',
    window_end Int64 COMMENT 'Epoch milliseconds UTC.',
    flights Int64 COMMENT 'See delays_by_airport_1m.flights.',
    delayed_flights Int64 COMMENT 'See delays_by_airport_1m.delayed_flights.',
    avg_delay_minutes Nullable(Float64) COMMENT 'See delays_by_airport_1m.avg_delay_minutes.',
    max_delay_minutes Nullable(Int32) COMMENT 'See delays_by_airport_1m.max_delay_minutes.',
    max_produced_at Int64 COMMENT 'Epoch microseconds UTC.',
    emitted_at Int64 COMMENT 'Epoch microseconds UTC.',
    kafka_topic String COMMENT 'Added by the sink to each JSON row.',
    kafka_partition Int32 COMMENT 'Added by the sink to each JSON row.',
    kafka_offset Int64 COMMENT 'Added by the sink to each JSON row.'
)
ENGINE = Null
COMMENT 'Insert target of the sink for delays_by_airport_1m rows, shaped like the JSON of the topic; stores nothing itself.';

CREATE MATERIALIZED VIEW IF NOT EXISTS delays_by_airport_1m_ingest_mv TO delays_by_airport_1m AS
SELECT
    origin,
    fromUnixTimestamp64Milli(window_start, 'UTC') AS window_start,
    fromUnixTimestamp64Milli(window_end, 'UTC') AS window_end,
    flights,
    delayed_flights,
    avg_delay_minutes,
    max_delay_minutes,
    fromUnixTimestamp64Micro(max_produced_at, 'UTC') AS max_produced_at,
    fromUnixTimestamp64Micro(emitted_at, 'UTC') AS emitted_at,
    kafka_topic,
    kafka_partition,
    kafka_offset
FROM delays_by_airport_1m_ingest
COMMENT 'Converts the epoch integers of delays_by_airport_1m_ingest rows and writes them to delays_by_airport_1m.';
