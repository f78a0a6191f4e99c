"""Open the Iceberg catalog: a SQL catalog on SQLite by default, any pyiceberg catalog by name."""

import logging

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NamespaceAlreadyExistsError

from core.errors import ConfigError
from sinks.iceberg.settings import IcebergSettings

logger = logging.getLogger(__name__)

DEFAULT_CATALOG_NAME = "rtpath"


def open_catalog(settings: IcebergSettings) -> Catalog:
    """Open the configured catalog and create the sink's namespace when it is missing.

    Without `iceberg_catalog` the catalog is a pyiceberg `SqlCatalog` on SQLite at
    `DATA_DIR/iceberg/catalog.db` with its warehouse in `DATA_DIR/iceberg/warehouse`. With
    it, pyiceberg's `load_catalog` reads that catalog's properties (type, uri, warehouse,
    S3 credentials) from `.pyiceberg.yaml` or `PYICEBERG_CATALOG__<NAME>__*` variables.
    """
    catalog: Catalog
    if settings.iceberg_catalog is None:
        catalog = _open_local_catalog(settings)
    else:
        try:
            catalog = load_catalog(settings.iceberg_catalog)
        except ValueError as exc:
            raise ConfigError(
                f"cannot load Iceberg catalog {settings.iceberg_catalog!r}: {exc}; configure it "
                "in ~/.pyiceberg.yaml or with PYICEBERG_CATALOG__<NAME>__URI and its other "
                "properties, or leave iceberg_catalog unset for the local SQLite catalog"
            ) from exc
    try:
        catalog.create_namespace(settings.iceberg_namespace)
        logger.info("created Iceberg namespace %s", settings.iceberg_namespace)
    except NamespaceAlreadyExistsError:
        pass
    return catalog


def _open_local_catalog(settings: IcebergSettings) -> SqlCatalog:
    root = settings.iceberg_dir
    warehouse = root / "warehouse"
    warehouse.mkdir(parents=True, exist_ok=True)
    return SqlCatalog(
        DEFAULT_CATALOG_NAME,
        uri=f"sqlite:///{root / 'catalog.db'}",
        warehouse=warehouse.as_uri(),
    )


def describe_catalog(settings: IcebergSettings) -> str:
    """Return where the catalog lives, for start lines and errors."""
    if settings.iceberg_catalog is None:
        return f"sqlite catalog {settings.iceberg_dir / 'catalog.db'}"
    return f"pyiceberg catalog {settings.iceberg_catalog!r}"
