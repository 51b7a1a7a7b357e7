"""Models: records, fields, codecs and JSON Schema export."""

from streamctl.models.codecs import Codec, get_codec
from streamctl.models.serde import Serde

__all__ = ["Codec", "Serde", "get_codec"]
