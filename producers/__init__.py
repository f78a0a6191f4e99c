"""Kafka producers: replay the flight records into the `flights` topic as Avro."""
