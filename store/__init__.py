"""Every SQL statement of SalesPulse lives in this package: connection, migrations, one module per aggregate."""

from store.db import Store, open_store

__all__ = ["Store", "open_store"]
