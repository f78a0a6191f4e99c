"""Sinks that land Flink's output topics in ClickHouse and Iceberg."""
