"""Producers: replay flights and airports into Kafka as Avro, open-loop, at a controlled rate."""
