"""Record: a model whose fields come from class annotations (Faust's ``Record``)."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar

from streamctl.exceptions import DecodeError
from streamctl.models.base import Model
from streamctl.models.exceptions import ValidationError
from streamctl.models.fields import MISSING, FieldDescriptor, field_for_type
from streamctl.models.options import ModelOptions
from streamctl.models.registry import BLESSED_KEY
from streamctl.models.typeexpr import Invalid, Problem, type_label

_CONVERT_ERRORS = (ValueError, TypeError, ArithmeticError)


class Record(Model, abstract=True):
    """A model with fields from annotations (inherited ones too), like a dataclass.

    >>> class Point(Record):
    ...     x: int
    ...     y: int = 0
    >>> Point(1) == Point(x=1, y=0)
    True

    Positional arguments fill required fields first, then fields with defaults (Faust's
    order). Unknown keyword arguments are a TypeError. Records compare equal when they
    are of the same class with equal field values, order by their field tuple, and are
    hashable by their field values (as in Faust) -- so do not mutate one used as a key.
    Loading (``from_data``/``loads``) ignores keys that are not fields.
    """

    _field_names: ClassVar[tuple[str, ...]] = ()
    _init_order: ClassVar[tuple[str, ...]] = ()
    _required: ClassVar[frozenset[str]] = frozenset()
    _loaders: ClassVar[tuple[Any, ...]] = ()
    #: the keys a record's fields are read from (its fields' input names), and ``__faust``
    _wire_keys: ClassVar[frozenset[str]] = frozenset()
    _inits: ClassVar[tuple[Any, ...]] = ()
    _checks: ClassVar[tuple[tuple[str, Any], ...]] = ()
    _dumpers: ClassVar[tuple[tuple[str, str, Any], ...]] = ()
    _getter: ClassVar[Any] = None
    _check_on_load: ClassVar[bool] = False
    _post_init: ClassVar[bool] = False

    if TYPE_CHECKING:
        # Not defined here, so that ``hasattr(cls, "__post_init__")`` tells whether a
        # subclass has one; declared for the type checker only.
        def __post_init__(self) -> None: ...

    # ---------------------------------------------------------------- class setup

    @classmethod
    def _contribute_fields(cls, options: ModelOptions) -> None:
        if "Record" not in globals():  # Record itself is being created
            return
        hints = typing.get_type_hints(cls, localns={cls.__name__: cls})
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            if not issubclass(klass, Record) or klass is Record:
                continue
            local_defaults: list[str] = []
            for name in inspect.get_annotations(klass):
                tp = hints.get(name)
                if name.startswith("__") or _is_classvar(tp):
                    continue
                if name not in names:
                    names.append(name)
                if klass is cls:
                    _check_default_order(cls, name, local_defaults)

        descriptors: dict[str, FieldDescriptor] = {}
        for name in names:
            tp = hints[name]
            raw = getattr(cls, name, MISSING)
            if isinstance(raw, FieldDescriptor):
                descr = raw.clone()
            elif raw is MISSING:
                descr = field_for_type(tp)()
            else:
                descr = field_for_type(tp)(default=raw)
            if (
                descr.required
                and typing.get_origin(tp) in (typing.Union, _UnionType)
                and (type(None) in typing.get_args(tp))
            ):
                descr = _with_default_none(descr)
            descr.attach(cls, name, tp, options)
            setattr(cls, name, descr)
            descriptors[name] = descr

        options.fields = {n: hints[n] for n in names}
        options.fieldpos = dict(enumerate(names))
        options.descriptors = descriptors
        options.defaults = {n: d.default for n, d in descriptors.items() if not d.required}
        options.optionalset = frozenset(options.defaults)
        cls._compile(descriptors, options)

    @classmethod
    def _compile(cls, descriptors: dict[str, FieldDescriptor], options: ModelOptions) -> None:
        names = tuple(descriptors)
        cls._field_names = names
        cls._init_order = tuple(n for n in names if descriptors[n].required) + tuple(
            n for n in names if not descriptors[n].required
        )
        cls._required = frozenset(n for n in names if descriptors[n].required)
        loaders, inits = [], []
        for n, d in descriptors.items():
            default, factory = d.default_maker()
            loaders.append((n, d.input_name, d.fast_load, default, factory, d.fast, d.retry_load))
            inits.append((n, d.init, default, factory))
        cls._loaders = tuple(loaders)
        cls._wire_keys = frozenset(
            [*(str(d.input_name) for d in descriptors.values()), BLESSED_KEY]
        )
        cls._inits = tuple(inits)
        cls._checks = tuple((n, d.check) for n, d in descriptors.items() if d.check is not None)
        cls._dumpers = tuple(
            (n, str(d.output_name), d.dump) for n, d in descriptors.items() if not d.exclude
        )
        if len(names) > 1:
            cls._getter = attrgetter(*names)
        elif names:
            single = attrgetter(names[0])
            cls._getter = staticmethod(lambda self: (single(self),))
        else:
            cls._getter = staticmethod(lambda self: ())
        cls._check_on_load = options.validation
        cls._post_init = hasattr(cls, "__post_init__")

    # ---------------------------------------------------------------- construction

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        if cls.__is_abstract__:
            raise TypeError(f"cannot instantiate abstract model {cls.__name__}")
        order = cls._init_order
        if len(args) > len(order):
            raise TypeError(
                f"{cls.__name__}.__init__() takes {len(order) + 1} positional arguments "
                f"but {len(args) + 1} were given"
            )
        given = dict(zip(order, args, strict=False))
        if kwargs:
            kwargs.pop(BLESSED_KEY, None)
            fields = cls._options.descriptors
            for key, value in kwargs.items():
                if key not in fields:
                    raise TypeError(
                        f"{cls.__name__}.__init__() got an unexpected keyword argument {key!r}"
                    )
                if key in given:
                    raise TypeError(
                        f"{cls.__name__}.__init__() got multiple values for argument {key!r}"
                    )
                given[key] = value
        if len(given) < len(order):
            missing = [n for n in order if n in cls._required and n not in given]
            if missing:
                listed = " and ".join(repr(n) for n in missing)
                raise TypeError(
                    f"{cls.__name__}.__init__() missing {len(missing)} required "
                    f"argument{'s' if len(missing) > 1 else ''}: {listed}"
                )
        values = self.__dict__
        name = ""
        try:
            for name, init, default, factory in cls._inits:
                if name in given:
                    value = given[name]
                    if init is not None and value is not None:
                        value = init(value)
                elif factory is not None:
                    value = factory()
                else:
                    value = default
                values[name] = value
        except Exception as exc:
            raise _field_error(cls, name, given.get(name), exc) from None
        if cls._check_on_load:
            self._raise_if_invalid()
        if cls._post_init:
            self.__post_init__()

    @classmethod
    def from_data(cls, data: Any, *, preferred_type: type[Model] | None = None) -> Any:
        """Build an instance from decoded data; every failure is a DecodeError.

        A ``__faust`` namespace in ``data`` may select a subclass (see
        ``Model._resolve_target``); keys that are not fields become plain attributes
        of the instance (as Faust's non-strict init sets them), left out of ``asdict()``
        and ``dumps()``; one that would shadow a method or class attribute, or starts
        with ``_``, is ignored.
        """
        if type(data) is not dict:
            if isinstance(data, Model):
                if isinstance(data, cls):
                    return data
                raise DecodeError(f"expected {cls.__name__}, got {type(data).__name__}")
            if not isinstance(data, Mapping):
                raise DecodeError(
                    f"{cls.__name__}: expected a JSON object, got {type(data).__name__}"
                )
            data = dict(data)
        target: type[Record] = cls
        if BLESSED_KEY in data or cls.__is_abstract__ or preferred_type is not None:
            target = cls._resolve_target(data, preferred_type)
        return target._from_dict(data)

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Any:
        self = object.__new__(cls)
        values = self.__dict__
        name = key = ""
        validation = cls._check_on_load
        invalid = False
        try:
            for name, key, load, default, factory, fast, retry in cls._loaders:
                if key in data:
                    value = data[key]
                    if load is not None and value is not None:
                        value = load(value)
                elif factory is not None:
                    value = factory()
                elif default is MISSING:
                    raise Invalid("", "is required", MISSING)
                else:
                    value = default
                if validation and not fast(value):
                    if retry is not None and value is not None:
                        value = retry(value)
                    if not fast(value):
                        invalid = True  # the full checks in validate() decide
                values[name] = value
        except RecursionError:
            raise DecodeError(f"{cls.__name__}: data nested too deeply") from None
        except Exception as exc:
            raise _field_error(cls, name, data.get(key, MISSING), exc) from None
        if not data.keys() <= cls._wire_keys:  # a subset test allocates nothing
            for k in data.keys() - cls._wire_keys:
                # never shadowing a method or class attribute, nor a private name
                if isinstance(k, str) and k[:1] != "_" and not hasattr(cls, k):
                    values.setdefault(k, data[k])
        if invalid:
            self._raise_if_invalid()
        if cls._post_init:
            self.__post_init__()
        return self

    @classmethod
    def _load_field(cls, value: Any) -> Any:
        """Load a nested value annotated with this class (a dict, or already a model)."""
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls.from_data(value, preferred_type=cls)
        raise Invalid("", f"expected {cls.__name__} (an object)", value)

    # ---------------------------------------------------------------- validation

    def validate(self) -> list[ValidationError]:
        errors = []
        cls_name = type(self).__name__
        values = self.__dict__
        for name, check in self._checks:
            problem: Problem | None = check(values.get(name))
            if problem is not None:
                path, rule, value = problem
                errors.append(ValidationError(cls_name, name + path, value, rule))
        return errors

    def _raise_if_invalid(self) -> None:
        errors = self.validate()
        if errors:
            raise errors[0].with_errors(errors)

    # ---------------------------------------------------------------- output

    def asdict(self) -> dict[str, Any]:
        """Field values by name (nested models stay models; excluded fields left out)."""
        values = self.__dict__
        return {name: values[name] for name, _, _ in self._dumpers}

    def to_representation(self) -> dict[str, Any]:
        """JSON-ready dict, with ``__faust: {"ns": ...}`` when ``include_metadata``."""
        values = self.__dict__
        out = {}
        for name, key, dump in self._dumpers:
            value = values[name]
            out[key] = value if dump is None or value is None else dump(value)
        options = self._options
        if options.include_metadata:
            out[BLESSED_KEY] = {"ns": options.namespace}
        return out

    def __json__(self) -> Any:
        return self.to_representation()

    def derive(self, *objects: Record, **fields: Any) -> Any:
        """A copy with values from ``objects`` (in order) and then ``fields`` replaced."""
        data = {name: self.__dict__[name] for name in self._field_names}
        for obj in objects:
            data.update(obj.asdict())
        data.update(fields)
        return type(self)(**data)

    def __repr__(self) -> str:
        values = self.__dict__
        body = ", ".join(f"{n}={values.get(n, MISSING)!r}" for n in self._field_names)
        return f"{type(self).__name__}({body})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._getter(self) == self._getter(other))

    def __ne__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._getter(self) != self._getter(other))

    def __lt__(self, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._getter(self) < self._getter(other))

    def __le__(self, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._getter(self) <= self._getter(other))

    def __gt__(self, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._getter(self) > self._getter(other))

    def __ge__(self, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._getter(self) >= self._getter(other))

    def __hash__(self) -> int:
        return hash((self.__class__, self._getter(self)))


_UnionType: Any = getattr(__import__("types"), "UnionType", typing.Union)


def _is_classvar(tp: Any) -> bool:
    return tp is ClassVar or typing.get_origin(tp) is ClassVar


def _check_default_order(cls: type, name: str, local_defaults: list[str]) -> None:
    """Like dataclasses: in one class body a field without default can't follow one with."""
    if cls.__dict__.get("__any_field_order__"):
        return
    value = cls.__dict__.get(name, MISSING)
    has_default = value is not MISSING and not (
        isinstance(value, FieldDescriptor) and value.required
    )
    if has_default:
        local_defaults.append(name)
    elif local_defaults:
        raise TypeError(
            f"{cls.__name__}: non-default field {name!r} follows default "
            f"field(s) {', '.join(local_defaults)}"
        )


def _with_default_none(descr: FieldDescriptor) -> FieldDescriptor:
    """An Optional[...] field without a default defaults to None (as in Faust)."""
    descr.required = False
    descr._default = None
    return descr


def _field_error(cls: type[Model], name: str, value: Any, exc: Exception) -> DecodeError:
    cls_name = cls.__name__
    if isinstance(exc, ValidationError):
        return exc.nested(cls_name, name)
    if isinstance(exc, Invalid):
        return ValidationError(cls_name, name + exc.path, exc.value, exc.rule)
    if isinstance(exc, RecursionError):
        return DecodeError(f"{cls_name}: data nested too deeply")
    if isinstance(exc, _CONVERT_ERRORS):
        descr = cls._options.descriptors.get(name)
        label = type_label(descr.node) if descr is not None else "field type"
        reason = str(exc)
        if len(reason) > 100:
            reason = reason[:97] + "..."
        return ValidationError(cls_name, name, value, f"cannot convert to {label}: {reason}")
    if isinstance(exc, DecodeError):
        return exc
    raise exc
