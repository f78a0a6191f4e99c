"""Dashboard queries over the ClickHouse tables and the read-only query API that serves them.

Imports only `core`; the ClickHouse sink imports `dashboards.server.serve_api` to serve the API
from its own process in embedded (chDB) mode.
"""
