"""Tables: Faust-style Table, GlobalTable, SetTable, SetGlobalTable with changelogs."""

from streamctl.tables.base import AppLike, Collection
from streamctl.tables.globaltable import GlobalTable
from streamctl.tables.naming import changelog_topic_name, store_path
from streamctl.tables.sets import SetGlobalTable, SetTable, SetView
from streamctl.tables.table import Table

__all__ = [
    "AppLike",
    "Collection",
    "GlobalTable",
    "SetGlobalTable",
    "SetTable",
    "SetView",
    "Table",
    "changelog_topic_name",
    "store_path",
]
