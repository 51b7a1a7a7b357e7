"""Compile field annotations into small load, dump and check functions (built once per class).

``nodes`` parses an annotation into a TypeNode tree; ``load``, ``dump`` and ``check``
each compile that tree into one closure per field, so the per-event path runs only
those closures.
"""

from streamctl.models.typeexpr.check import Check, Problem, compile_check
from streamctl.models.typeexpr.dump import compile_dump, dump_any
from streamctl.models.typeexpr.load import (
    Invalid,
    LoadContext,
    compile_load,
    parse_datetime,
    to_decimal,
)
from streamctl.models.typeexpr.nodes import (
    Fn,
    TypeNode,
    inner,
    is_model,
    parse_type,
    related_models,
    type_label,
    typing_args,
)

__all__ = [
    "Check",
    "Fn",
    "Invalid",
    "LoadContext",
    "Problem",
    "TypeNode",
    "compile_check",
    "compile_dump",
    "compile_load",
    "dump_any",
    "inner",
    "is_model",
    "parse_datetime",
    "parse_type",
    "related_models",
    "to_decimal",
    "type_label",
    "typing_args",
]
