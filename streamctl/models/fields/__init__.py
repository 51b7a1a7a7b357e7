"""Field descriptors: per-field defaults, coercion, constraints and validation.

``base`` holds FieldDescriptor; ``scalars``, ``decimals`` and ``datetimes`` the typed
fields; ``checks`` composes a field's validation; ``kinds`` picks the class for an
annotation.
"""

from streamctl.models.fields.base import MISSING, FieldDescriptor
from streamctl.models.fields.datetimes import DatetimeField
from streamctl.models.fields.decimals import DecimalField, decimal_pattern
from streamctl.models.fields.kinds import field_for_type
from streamctl.models.fields.scalars import (
    BooleanField,
    BytesField,
    CharField,
    FloatField,
    IntegerField,
    NumberField,
    StringField,
)

__all__ = [
    "MISSING",
    "BooleanField",
    "BytesField",
    "CharField",
    "DatetimeField",
    "DecimalField",
    "FieldDescriptor",
    "FloatField",
    "IntegerField",
    "NumberField",
    "StringField",
    "decimal_pattern",
    "field_for_type",
]
