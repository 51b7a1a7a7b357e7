"""Model: the abstract base of records; options, (de)serialization and validation API."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from streamctl.exceptions import DecodeError
from streamctl.models.codecs import get_codec
from streamctl.models.exceptions import ValidationError
from streamctl.models.options import USER_OPTIONS, ModelOptions
from streamctl.models.registry import BLESSED_KEY, namespace_of, registry
from streamctl.wording import with_article

_M = TypeVar("_M", bound="Model")


class Model:
    """Base of every model class; see :class:`streamctl.models.record.Record`.

    Options come from class keywords (``class X(Record, serializer="json")``) or an inner
    ``class Meta:`` (``class Options:`` also works); an unknown option is a TypeError.
    """

    __is_abstract__: ClassVar[bool] = True
    __is_model__: ClassVar[bool] = True
    _options: ClassVar[ModelOptions] = ModelOptions()
    #: the JSON Schema validator of this very class, once models.schema has compiled it
    _json_schema_validator: ClassVar[Any]

    def __init_subclass__(
        cls,
        *,
        serializer: str | None = None,
        namespace: str | None = None,
        include_metadata: bool | None = None,
        isodates: bool | None = None,
        abstract: bool = False,
        allow_blessed_key: bool | None = None,
        decimals: bool | None = None,
        coerce: bool | None = None,
        polymorphic_fields: bool | None = None,
        validation: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        options = cls._options.clone_defaults()
        meta = cls.__dict__.get("Meta") or cls.__dict__.get("Options")
        if isinstance(meta, type):
            settings = {k: v for k, v in vars(meta).items() if not k.startswith("_")}
            unknown = set(settings) - set(USER_OPTIONS)
            if unknown:
                raise TypeError(f"{cls.__name__}.Meta: unknown option(s) {sorted(unknown)}")
            namespace = namespace or settings.pop("namespace", None)
            options.update(**settings)
        options.update(
            serializer=serializer,
            include_metadata=include_metadata,
            isodates=isodates,
            allow_blessed_key=allow_blessed_key,
            decimals=decimals,
            coerce=coerce,
            polymorphic_fields=polymorphic_fields,
            validation=validation,
        )
        options.namespace = namespace or f"{cls.__module__}.{cls.__qualname__}"
        cls._options = options
        cls.__is_abstract__ = abstract
        cls._contribute_fields(options)
        if not abstract:
            registry[options.namespace] = cls

    @classmethod
    def _contribute_fields(cls, options: ModelOptions) -> None:
        """Subclasses (Record) read their fields here."""

    # ---------------------------------------------------------------- decoding

    @classmethod
    def from_data(cls, data: Any, *, preferred_type: type[Model] | None = None) -> Any:
        """Build an instance from decoded data (what Serde calls for every record)."""
        raise NotImplementedError

    @classmethod
    def _resolve_target(
        cls: type[_M], data: Any, preferred_type: type[Model] | None = None
    ) -> type[_M]:
        """Pick the class to build from ``data``'s ``__faust`` namespace, safely.

        The namespace is honoured only when it names a registered subclass of the
        expected class and that class is abstract or allows it (``polymorphic_fields`` or
        ``allow_blessed_key``). Any other namespace is an error for an abstract expected
        class and is ignored for a concrete one: loading never builds an unrelated class.
        """
        base = cls
        if preferred_type is not None and issubclass(preferred_type, cls):
            base = preferred_type
        ns = namespace_of(data)
        if ns is None or ns == base._options.namespace:
            target = base
        else:
            found = registry.get(ns)
            opts = base._options
            if (
                found is not None
                and issubclass(found, base)
                and (base.__is_abstract__ or opts.polymorphic_fields or opts.allow_blessed_key)
            ):
                target = found
            elif base.__is_abstract__:
                why = "unknown" if found is None else f"not {with_article(base.__name__)}"
                raise DecodeError(f"{base.__name__}: model namespace {ns!r} is {why}")
            else:
                target = base
        if target.__is_abstract__:
            raise DecodeError(
                f"{target.__name__} is abstract: data must name a concrete subclass "
                f"in {BLESSED_KEY}.ns"
            )
        return target

    @classmethod
    def loads(
        cls,
        s: bytes,
        *,
        serializer: Any = None,
        default_serializer: Any = None,
    ) -> Any:
        """Decode ``s`` with ``serializer`` (else the model's, else ``default_serializer``,
        else json) and build an instance. Every failure is a DecodeError."""
        codec = get_codec(serializer or cls._options.serializer or default_serializer)
        return cls.from_data(codec.loads(s))

    # ---------------------------------------------------------------- encoding

    def to_representation(self) -> Any:
        """Plain Python data ready for a codec (what Serde encodes)."""
        raise NotImplementedError

    def dumps(self, *, serializer: Any = None) -> bytes:
        """Encode with ``serializer`` (else the model's serializer, else json)."""
        return get_codec(serializer or self._options.serializer).dumps(self.to_representation())

    # ---------------------------------------------------------------- validation

    def validate(self) -> list[ValidationError]:
        """Every violation of field types and constraints (an empty list when valid)."""
        return []

    def is_valid(self) -> bool:
        return not self.validate()

    @property
    def validation_errors(self) -> list[ValidationError]:
        return self.validate()

    def validate_or_raise(self) -> None:
        """Raise the first ValidationError (carrying all of them in ``.errors``)."""
        errors = self.validate()
        if errors:
            raise errors[0].with_errors(errors)


def maybe_model(arg: Any) -> Any:
    """Build the model a dict names in ``__faust.ns`` (any registered model); else ``arg``."""
    ns = namespace_of(arg)
    if ns is None:
        return arg
    model = registry.get(ns)
    if model is None:
        return arg
    return model.from_data(arg)
