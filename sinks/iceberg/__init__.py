"""Iceberg sink and table maintenance."""
