"""Which descriptor class an annotation gets, as Faust would pick it."""

from __future__ import annotations

from typing import Any

from streamctl.models import typeexpr
from streamctl.models.fields.base import FieldDescriptor
from streamctl.models.fields.datetimes import DatetimeField
from streamctl.models.fields.decimals import DecimalField
from streamctl.models.fields.scalars import (
    BooleanField,
    BytesField,
    FloatField,
    IntegerField,
    StringField,
)

_BY_KIND: dict[str, type[FieldDescriptor]] = {
    "int": IntegerField,
    "float": FloatField,
    "bool": BooleanField,
    "str": StringField,
    "bytes": BytesField,
    "decimal": DecimalField,
    "datetime": DatetimeField,
}


def field_for_type(tp: Any) -> type[FieldDescriptor]:
    """The descriptor class Faust would pick for an annotation (Optional is looked through)."""
    node = typeexpr.inner(typeexpr.parse_type(tp))
    return _BY_KIND.get(node.kind, FieldDescriptor)
