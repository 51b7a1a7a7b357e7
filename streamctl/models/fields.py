"""Field descriptors: per-field defaults, coercion, constraints and validation."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from datetime import timezone as dt_timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from streamctl.models import typeexpr
from streamctl.models.typeexpr import Check, LoadContext, Problem, TypeNode

if TYPE_CHECKING:
    from streamctl.models.options import ModelOptions


class _Missing:
    """Sentinel for "no default given" (prints as <missing> in error messages)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class FieldDescriptor:
    """Describes one field of a Record; the class attribute ``Order.id`` is its descriptor.

    Giving ``default`` or ``default_factory`` makes the field optional (``required`` is
    then False); ``required=False`` alone means "default None". ``coerce=None`` inherits
    the model's ``coerce`` option. ``validator(value)`` may raise ValueError/TypeError or
    return False to reject a value. ``exclude=True`` leaves the field out of
    ``asdict()``/``dumps()``. ``choices`` restricts values to a list; ``description``
    ends up in the JSON Schema. ``input_name``/``output_name`` rename the key on the wire.
    """

    # Set when the descriptor is attached to a model class:
    field: str
    model: type
    type: Any
    node: TypeNode
    load: Callable[[Any], Any] | None
    init: Callable[[Any], Any] | None
    dump: Callable[[Any], Any] | None
    check: Check | None
    fast: Callable[[Any], bool]
    fast_load: Callable[[Any], Any] | None
    retry_load: Callable[[Any], Any] | None
    nullable: bool

    def __init__(
        self,
        *,
        required: bool = True,
        default: Any = MISSING,
        default_factory: Callable[[], Any] | None = None,
        coerce: bool | None = None,
        validator: Callable[[Any], Any] | None = None,
        exclude: bool = False,
        choices: Sequence[Any] | None = None,
        description: str | None = None,
        input_name: str | None = None,
        output_name: str | None = None,
        field: str | None = None,
        type: Any = None,
    ) -> None:
        if default is not MISSING and default_factory is not None:
            raise ValueError("give default or default_factory, not both")
        self._default = default
        self.default_factory = default_factory
        self.required = required and default is MISSING and default_factory is None
        self.coerce = coerce
        self.validator = validator
        self.exclude = exclude
        self.choices = list(choices) if choices is not None else None
        self.description = description
        self.input_name = input_name
        self.output_name = output_name
        self.field = field or ""
        self.type = type

    @property
    def default(self) -> Any:
        """The default value (None when there is none, as in Faust)."""
        return None if self._default is MISSING else self._default

    @property
    def has_default(self) -> bool:
        return not self.required

    def __set_name__(self, owner: type, name: str) -> None:
        self.field = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        # A non-data descriptor: instance values live in __dict__ and win, so reading
        # ``order.id`` is a plain attribute lookup; the class attribute is this object.
        if instance is None:
            return self
        raise AttributeError(self.field)

    def __repr__(self) -> str:
        model = getattr(self, "model", None)
        ident = f"{model.__name__}.{self.field}" if model else self.field
        node = getattr(self, "node", None)
        typ = typeexpr.type_label(node) if node is not None else getattr(self.type, "__name__", "?")
        default = "" if self.required else f" = {self.default!r}"
        return f"<{type(self).__name__}: {ident}: {typ}{default}>"

    def clone(self) -> FieldDescriptor:
        """An unattached copy, for a subclass that inherits this field."""
        return copy.copy(self)

    # ------------------------------------------------------------------ attach

    def default_maker(self) -> tuple[Any, Callable[[], Any] | None]:
        """(default value, factory): mutable defaults are copied per instance."""
        if self.default_factory is not None:
            return MISSING, self.default_factory
        if self.required:
            return MISSING, None
        value = self.default
        if isinstance(value, list | dict | set):
            return MISSING, lambda: copy.copy(value)
        return value, None

    def timezone(self) -> tzinfo | None:
        return None

    def attach(self, model: type, name: str, tp: Any, options: ModelOptions) -> None:
        """Bind to ``model.name`` annotated ``tp`` and compile the per-field functions."""
        self.model = model
        self.field = name
        self.type = tp
        self.input_name = self.input_name or name
        self.output_name = self.output_name or self.input_name
        self.node = node = typeexpr.parse_type(tp)
        coerce = options.coerce if self.coerce is None else self.coerce
        tz = self.timezone()
        wire = LoadContext(True, coerce, options.isodates, options.decimals, tz)
        python = LoadContext(False, coerce, options.isodates, options.decimals, tz)
        self.load = self.wrap_load(typeexpr.compile_load(node, wire))
        self.init = self.wrap_load(typeexpr.compile_load(node, python))
        self.dump = typeexpr.compile_dump(node)
        self.nullable = node.kind in ("optional", "any", "none") or (
            not self.required and self.default is None and self.default_factory is None
        )
        self.check = self._compile_check()
        # With validation, a scalar whose only loader is coercion skips it when the fast
        # check already accepts the value: coercion runs only for the odd value out.
        self.retry_load = None
        self.fast_load = self.load
        if (
            options.validation
            and self.fast is not _never
            and typeexpr.inner(node).kind in ("int", "float", "str", "bool")
            and not getattr(self, "trim_whitespace", False)
        ):
            self.fast_load, self.retry_load = None, self.load

    def wrap_load(self, load: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
        """Subclasses may post-process loaded values (e.g. trim whitespace)."""
        return load

    def constraint_checks(self) -> list[Check]:
        """Checks run on non-null values whose type is already right."""
        checks: list[Check] = []
        if self.choices is not None:
            allowed = self.choices
            rule = f"must be one of {allowed!r}"
            checks.append(lambda v: None if v in allowed else ("", rule, v))
        if self.validator is not None:
            checks.append(_user_validator(self.validator))
        return checks

    def fast_accept(self) -> Callable[[Any], bool] | None:
        """A one-expression predicate true for common valid values (None: no fast path).

        It must never accept a value the full check rejects; it may reject valid ones
        (the full check then decides).
        """
        return None

    def _compile_check(self) -> Check:
        full = self._compile_full_check()
        fast = self.fast_accept() if self.choices is None and self.validator is None else None
        if fast is not None and self.nullable:
            inner_fast = fast
            fast = lambda v: v is None or inner_fast(v)  # noqa: E731
        #: predicate used first on the decode path (one call for a valid value)
        self.fast = fast or _never
        if fast is None:
            return full
        return lambda v: None if fast(v) else full(v)

    def _compile_full_check(self) -> Check:
        type_check = typeexpr.compile_check(typeexpr.inner(self.node))
        constraints = tuple(self.constraint_checks())
        null: Problem | None = None if self.nullable else ("", "is required (null given)", None)
        if not constraints:
            if type_check is None:
                return lambda v: null if v is None else None
            tc = type_check
            return lambda v: null if v is None else tc(v)
        if len(constraints) == 1 and type_check is not None:
            tc, only = type_check, constraints[0]
            return lambda v: null if v is None else (tc(v) or only(v))

        def check(v: Any) -> Problem | None:
            if v is None:
                return null
            if type_check is not None:
                p = type_check(v)
                if p is not None:
                    return p
            for c in constraints:
                p = c(v)
                if p is not None:
                    return p
            return None

        return check

    def schema_constraints(self) -> dict[str, Any]:
        """JSON Schema keywords for this field's constraints (type aside)."""
        out: dict[str, Any] = {}
        if self.choices is not None:
            out["enum"] = [_json_value(c) for c in self.choices]
        if self.description:
            out["description"] = self.description
        return out


def _never(value: Any) -> bool:
    return False


def _json_value(value: Any) -> Any:
    return typeexpr._dump_any(value)


def _user_validator(fn: Callable[[Any], Any]) -> Check:
    name = getattr(fn, "__name__", "validator")

    def check(v: Any) -> Problem | None:
        try:
            ok = fn(v)
        except (ValueError, TypeError) as exc:
            return ("", f"rejected by {name}: {exc}", v)
        return ("", f"rejected by {name}", v) if ok is False else None

    return check


class BooleanField(FieldDescriptor):
    """A ``bool`` field."""

    def fast_accept(self) -> Callable[[Any], bool] | None:
        if typeexpr.inner(self.node).kind != "bool":
            return None
        return lambda v: v is True or v is False


class NumberField(FieldDescriptor):
    """Base of numeric fields: ``min_value`` and ``max_value`` are inclusive bounds."""

    def __init__(self, *, min_value: Any = None, max_value: Any = None, **kwargs: Any) -> None:
        if min_value is not None and max_value is not None and min_value > max_value:
            raise ValueError(f"min_value {min_value!r} is greater than max_value {max_value!r}")
        self.min_value = min_value
        self.max_value = max_value
        super().__init__(**kwargs)

    def constraint_checks(self) -> list[Check]:
        checks = super().constraint_checks()
        lo, hi = self.min_value, self.max_value
        if lo is not None:
            rule_lo = f"must be >= {lo}"
            checks.append(lambda v: None if v >= lo else ("", rule_lo, v))
        if hi is not None:
            rule_hi = f"must be <= {hi}"
            checks.append(lambda v: None if v <= hi else ("", rule_hi, v))
        return checks

    def schema_constraints(self) -> dict[str, Any]:
        out = super().schema_constraints()
        if self.min_value is not None:
            out["minimum"] = _schema_number(self.min_value)
        if self.max_value is not None:
            out["maximum"] = _schema_number(self.max_value)
        return out


_INF = float("inf")


def _bounds(lo: Any, hi: Any) -> tuple[Any, Any]:
    return (-_INF if lo is None else lo), (_INF if hi is None else hi)


def _schema_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class IntegerField(NumberField):
    """An ``int`` field."""

    def fast_accept(self) -> Callable[[Any], bool] | None:
        if typeexpr.inner(self.node).kind != "int":
            return None
        lo, hi = _bounds(self.min_value, self.max_value)
        return lambda v: type(v) is int and lo <= v <= hi


class FloatField(NumberField):
    """A ``float`` field."""

    def fast_accept(self) -> Callable[[Any], bool] | None:
        if typeexpr.inner(self.node).kind != "float":
            return None
        lo, hi = _bounds(self.min_value, self.max_value)
        # v - v == 0.0 is False for inf and nan
        return lambda v: type(v) is float and v - v == 0.0 and lo <= v <= hi


class DecimalField(NumberField):
    """A ``Decimal`` field: at most ``max_digits`` digits, ``decimal_places`` after the point.

    ``max_decimal_places`` is accepted as Faust's spelling of ``decimal_places``.
    """

    def __init__(
        self,
        *,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        max_decimal_places: int | None = None,
        **kwargs: Any,
    ) -> None:
        places = decimal_places if decimal_places is not None else max_decimal_places
        for label, n in (("max_digits", max_digits), ("decimal_places", places)):
            if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
                raise ValueError(f"{label} must be a non-negative int, not {n!r}")
        if max_digits is not None and places is not None and places > max_digits:
            raise ValueError(f"decimal_places {places} exceeds max_digits {max_digits}")
        self.max_digits = max_digits
        self.decimal_places = places
        super().__init__(**kwargs)

    def fast_accept(self) -> Callable[[Any], bool] | None:
        if typeexpr.inner(self.node).kind != "decimal":
            return None
        if self.min_value is not None or self.max_value is not None:
            return None  # Decimal vs bound comparisons are not cheap: use the full check
        if self.max_digits is None and self.decimal_places is None:
            return lambda v: type(v) is Decimal and v.is_finite()
        return _fast_digits(self.max_digits, self.decimal_places)

    @property
    def max_decimal_places(self) -> int | None:
        return self.decimal_places

    def constraint_checks(self) -> list[Check]:
        checks = super().constraint_checks()
        if self.max_digits is not None or self.decimal_places is not None:
            checks.append(_digits_check(self.max_digits, self.decimal_places))
        return checks

    def schema_constraints(self) -> dict[str, Any]:
        out = super().schema_constraints()
        if self.max_digits is not None or self.decimal_places is not None:
            out["pattern"] = decimal_pattern(self.max_digits, self.decimal_places)
        return out


def decimal_pattern(max_digits: int | None, places: int | None) -> str:
    """A regex for decimal text within the digit limits (used in the JSON Schema)."""
    if max_digits is None:
        whole = "\\d+"
    else:
        n = max_digits - (places or 0)
        whole = "0" if n == 0 else f"\\d{{1,{n}}}"
    if places == 0:
        frac = ""
    elif places is None:
        frac = "(\\.\\d+)?" if max_digits is None else f"(\\.\\d{{1,{max_digits}}})?"
    else:
        frac = f"(\\.\\d{{1,{places}}})?"
    return f"^-?{whole}{frac}$"


def _fast_digits(max_digits: int | None, places: int | None) -> Callable[[Any], bool] | None:
    """Plain-notation decimals matching the schema pattern are valid (one regex in C);
    anything else (exponent notation, 0.x edge cases) goes to the full check."""
    if places is None:
        return None
    match = re.compile(decimal_pattern(max_digits, places)).match
    return lambda v: type(v) is Decimal and match(str(v)) is not None


def _digits_check(max_digits: int | None, places: int | None) -> Check:
    def check(v: Any) -> Problem | None:
        if not isinstance(v, Decimal) or not v.is_finite():
            return None
        text = str(v)  # much cheaper than as_tuple(); exponent notation is the rare case
        if "E" in text:
            t = v.as_tuple()
            exp = int(t.exponent)
            decimals = max(-exp, 0)
            digits = len(t.digits) + exp if exp >= 0 else max(len(t.digits), decimals)
        else:
            point = text.find(".")
            start = 1 if text[0] == "-" else 0
            if point < 0:
                decimals, whole = 0, len(text) - start
            else:
                decimals, whole = len(text) - point - 1, point - start
                if whole == 1 and text[start] == "0":
                    whole = 0
            digits = whole + decimals
        if places is not None and decimals > places:
            return ("", f"must have at most {places} decimal places", v)
        if max_digits is not None:
            if digits > max_digits:
                return ("", f"must have at most {max_digits} digits", v)
            if places is not None and digits - decimals > max_digits - places:
                whole_max = max_digits - places
                return ("", f"must have at most {whole_max} digits before the decimal point", v)
        return None

    return check


class CharField(FieldDescriptor):
    """Base of text fields: lengths, ``trim_whitespace``, ``allow_blank``.

    As in Faust, a blank value is a validation error unless ``allow_blank=True``.
    """

    def __init__(
        self,
        *,
        min_length: int | None = None,
        max_length: int | None = None,
        trim_whitespace: bool = False,
        allow_blank: bool = False,
        **kwargs: Any,
    ) -> None:
        for label, n in (("min_length", min_length), ("max_length", max_length)):
            if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
                raise ValueError(f"{label} must be a non-negative int, not {n!r}")
        if min_length is not None and max_length is not None and min_length > max_length:
            raise ValueError(f"min_length {min_length} is greater than max_length {max_length}")
        self.min_length = min_length
        self.max_length = max_length
        self.trim_whitespace = trim_whitespace
        self.allow_blank = allow_blank
        super().__init__(**kwargs)

    def wrap_load(self, load: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
        if not self.trim_whitespace:
            return load
        if load is None:
            return lambda v: v.strip() if isinstance(v, str) else v

        def trimmed(v: Any) -> Any:
            v = load(v)
            return v.strip() if isinstance(v, str) else v

        return trimmed

    def effective_min_length(self) -> int | None:
        if not self.allow_blank and not self.min_length:
            return 1
        return self.min_length

    def constraint_checks(self) -> list[Check]:
        checks = super().constraint_checks()
        lo = self.min_length or 0
        hi = self.max_length
        blank_ok = self.allow_blank
        if lo or hi is not None or not blank_ok:
            rule_lo, rule_hi = f"length must be >= {lo}", f"length must be <= {hi}"

            def lengths(v: Any) -> Problem | None:
                n = len(v)
                if not n and not blank_ok:
                    return ("", "must not be blank", v)
                if n < lo:
                    return ("", rule_lo, v)
                if hi is not None and n > hi:
                    return ("", rule_hi, v)
                return None

            checks.append(lengths)
        return checks


class StringField(CharField):
    """A ``str`` field; ``pattern`` is a regex the value must contain (``re.search``)."""

    def __init__(self, *, pattern: str | None = None, **kwargs: Any) -> None:
        self.pattern = pattern
        self._regex = re.compile(pattern) if pattern is not None else None
        super().__init__(**kwargs)

    def fast_accept(self) -> Callable[[Any], bool] | None:
        if typeexpr.inner(self.node).kind != "str":
            return None
        lo = self.effective_min_length() or 0
        hi = self.max_length if self.max_length is not None else _INF
        if self._regex is None:
            return lambda v: type(v) is str and lo <= len(v) <= hi
        search = self._regex.search
        return lambda v: type(v) is str and lo <= len(v) <= hi and search(v) is not None

    def constraint_checks(self) -> list[Check]:
        checks = super().constraint_checks()
        if self._regex is not None:
            search = self._regex.search
            rule = f"must match pattern {self.pattern!r}"
            checks.append(lambda v: None if search(v) else ("", rule, v))
        return checks

    def schema_constraints(self) -> dict[str, Any]:
        out = super().schema_constraints()
        lo = self.effective_min_length()
        if lo:
            out["minLength"] = lo
        if self.max_length is not None:
            out["maxLength"] = self.max_length
        if self.pattern is not None:
            out["pattern"] = self.pattern
        return out


class BytesField(CharField):
    """A ``bytes`` field (base64 text on the wire)."""


class DatetimeField(FieldDescriptor):
    """A ``datetime`` field; with ``timezone`` naive values get that zone, aware ones convert."""

    def __init__(self, *, timezone: str | tzinfo | None = None, **kwargs: Any) -> None:
        self.tz = _resolve_timezone(timezone)
        self.timezone_name = timezone if isinstance(timezone, str) else None
        super().__init__(**kwargs)

    def timezone(self) -> tzinfo | None:
        return self.tz

    def fast_accept(self) -> Callable[[Any], bool] | None:
        if typeexpr.inner(self.node).kind != "datetime":
            return None
        return lambda v: type(v) is datetime


def _resolve_timezone(tz: str | tzinfo | None) -> tzinfo | None:
    if tz is None or isinstance(tz, tzinfo):
        return tz
    if tz.upper() in ("UTC", "Z"):
        return dt_timezone.utc
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(tz)
    except Exception:
        raise ValueError(f"unknown timezone {tz!r}") from None


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
    "field_for_type",
]
