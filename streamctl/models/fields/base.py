"""FieldDescriptor, the base of every field: defaults, options, and compiling its functions."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from streamctl.models import typeexpr
from streamctl.models.fields.checks import choices_check, field_check, never, user_validator
from streamctl.models.typeexpr import Check, LoadContext, TypeNode

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

    def __class_getitem__(cls, item: Any) -> type:
        """``FieldDescriptor[str]`` (Faust's generic form) is the class itself: the field's
        type comes from the annotation, not the subscript."""
        return cls

    def __set_name__(self, owner: type, name: str) -> None:
        self.field = name

    def getattr(self, obj: Any) -> Any:
        """This field's value on ``obj`` (a Record, or a dict keyed by the field's input
        name): Faust's ``FieldDescriptor.getattr``, what ``stream.group_by(Model.field)``
        reads the new key with. Raises AttributeError/KeyError when it is missing."""
        if isinstance(obj, dict):
            return obj[self.input_name or self.field]
        return getattr(obj, self.field)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        # A non-data descriptor: instance values live in __dict__ and win, so reading
        # ``order.id`` is a plain attribute lookup; the class attribute is this object.
        if instance is None:
            return self
        raise AttributeError(self.field)

    @property
    def ident(self) -> str:
        """``"Model.field"`` (just ``"field"`` before the descriptor is attached to a model):
        Faust's ``FieldDescriptor.ident``, which names ``group_by(Model.field)``'s
        repartition topic."""
        model = getattr(self, "model", None)
        return f"{model.__name__}.{self.field}" if model else self.field

    def __repr__(self) -> str:
        ident = self.ident
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
            and self.fast is not never
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
            checks.append(choices_check(self.choices))
        if self.validator is not None:
            checks.append(user_validator(self.validator))
        return checks

    def fast_accept(self) -> Callable[[Any], bool] | None:
        """A one-expression predicate true for common valid values (None: no fast path).

        It must never accept a value the full check rejects; it may reject valid ones
        (the full check then decides).
        """
        return None

    def _compile_check(self) -> Check:
        type_check = typeexpr.compile_check(typeexpr.inner(self.node))
        constraints = self.constraint_checks()
        fast = self.fast_accept() if self.choices is None and self.validator is None else None
        check, self.fast = field_check(type_check, constraints, self.nullable, fast)
        return check

    def schema_constraints(self) -> dict[str, Any]:
        """JSON Schema keywords for this field's constraints (type aside)."""
        out: dict[str, Any] = {}
        if self.choices is not None:
            out["enum"] = [typeexpr.dump_any(c) for c in self.choices]
        if self.description:
            out["description"] = self.description
        return out
