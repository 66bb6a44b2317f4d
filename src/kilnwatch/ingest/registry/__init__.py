"""The registry's files, both ways: import (check every row, then upsert) and export, in the
formats of docs/formats.md ("Registry") as :data:`kilnwatch.formats.REGISTRY_FORMATS` lists
them.

* :mod:`~kilnwatch.ingest.registry.checks`: the row checks of each kind;
* :mod:`~kilnwatch.ingest.registry.load`: :func:`import_registry` (all-or-nothing or
  skip-invalid, through :mod:`kilnwatch.ingest.tables`);
* :mod:`~kilnwatch.ingest.registry.export`: :func:`export_registry` (secrets never exported).
"""

from kilnwatch.ingest.registry.export import export_registry, registry_rows
from kilnwatch.ingest.registry.load import import_registry

__all__ = ["export_registry", "import_registry", "registry_rows"]
