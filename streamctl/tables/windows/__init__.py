"""Windowed tables: Faust's window types, WindowWrapper and WindowSet, and closing on time.

``ranges``: the window types and their ranges; ``sessions``: session windows' merging;
``timing``: event time and relativity; ``closing``: punctuation and the end of input;
``clock``: stream time, when windows close and expire, the close mark; ``table``: the windowed side of Table; ``wrapper``: Faust's
WindowWrapper and WindowSet; ``emit``: window records sent on close or update;
``eventtime``: event time from a timestamp or a field.
"""

from streamctl.tables.windows.ranges import (
    HoppingWindow,
    SessionWindow,
    SlidingWindow,
    TumblingWindow,
    Window,
    WindowRange,
)
from streamctl.tables.windows.table import WindowedTable
from streamctl.tables.windows.wrapper import (
    WindowedItemsView,
    WindowedKeysView,
    WindowedValuesView,
    WindowSet,
    WindowWrapper,
)
from streamctl.tables.windows.writing import LateEvent

__all__ = [
    "HoppingWindow",
    "LateEvent",
    "SessionWindow",
    "SlidingWindow",
    "TumblingWindow",
    "Window",
    "WindowRange",
    "WindowSet",
    "WindowWrapper",
    "WindowedItemsView",
    "WindowedKeysView",
    "WindowedTable",
    "WindowedValuesView",
]
