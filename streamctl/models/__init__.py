"""Models: records, fields, codecs and JSON Schema export."""

from streamctl.models.base import Model, maybe_model
from streamctl.models.codecs import Codec, get_codec, register_codec
from streamctl.models.definitions import build_models
from streamctl.models.exceptions import ModelDefinitionError, ValidationError
from streamctl.models.fields import (
    BooleanField,
    BytesField,
    CharField,
    DatetimeField,
    DecimalField,
    FieldDescriptor,
    FloatField,
    IntegerField,
    NumberField,
    StringField,
    field_for_type,
)
from streamctl.models.options import ModelOptions
from streamctl.models.record import Record
from streamctl.models.registry import registry
from streamctl.models.schema import (
    dump_schema,
    model_json_schema,
    stale_schemas,
    validate_data,
    write_schemas,
)
from streamctl.models.serde import Serde

__all__ = [
    "BooleanField",
    "BytesField",
    "CharField",
    "Codec",
    "DatetimeField",
    "DecimalField",
    "FieldDescriptor",
    "FloatField",
    "IntegerField",
    "Model",
    "ModelDefinitionError",
    "ModelOptions",
    "NumberField",
    "Record",
    "Serde",
    "StringField",
    "ValidationError",
    "build_models",
    "dump_schema",
    "field_for_type",
    "get_codec",
    "maybe_model",
    "model_json_schema",
    "register_codec",
    "registry",
    "stale_schemas",
    "validate_data",
    "write_schemas",
]
