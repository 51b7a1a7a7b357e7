"""Table stores: the ABC, the registry and the built-in ``sqlite`` and ``memory`` stores."""

from streamctl.tables.stores.base import Store
from streamctl.tables.stores.registry import DEFAULT, open_store, store_class

__all__ = ["DEFAULT", "Store", "open_store", "store_class"]
