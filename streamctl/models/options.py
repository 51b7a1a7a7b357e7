"""ModelOptions: per-class settings given as class keywords or an inner ``class Meta``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streamctl.models.fields import FieldDescriptor

#: Option names a user may set; anything else is a TypeError at class creation.
USER_OPTIONS = (
    "serializer",
    "namespace",
    "include_metadata",
    "polymorphic_fields",
    "allow_blessed_key",
    "isodates",
    "decimals",
    "validation",
    "coerce",
)


class ModelOptions:
    """Settings of one model class (``Model._options``).

    ``validation=True`` implies ``coerce=True`` (as in Faust). Everything below the user
    options is computed when the class is created and is read-only by convention.
    """

    def __init__(
        self,
        *,
        serializer: str | None = None,
        include_metadata: bool = True,
        polymorphic_fields: bool = False,
        allow_blessed_key: bool = False,
        isodates: bool = False,
        decimals: bool = False,
        validation: bool = False,
        coerce: bool = False,
        namespace: str = "",
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(f"unknown model option(s): {', '.join(sorted(kwargs))}")
        self.serializer = serializer
        self.include_metadata = include_metadata
        self.polymorphic_fields = polymorphic_fields
        self.allow_blessed_key = allow_blessed_key
        self.isodates = isodates
        self.decimals = decimals
        self.validation = validation
        self.coerce = coerce or validation
        self.namespace = namespace
        # Computed by Record.__init_subclass__:
        self.fields: dict[str, Any] = {}
        self.fieldpos: dict[int, str] = {}
        self.defaults: dict[str, Any] = {}
        self.optionalset: frozenset[str] = frozenset()
        self.descriptors: dict[str, FieldDescriptor] = {}

    def clone_defaults(self) -> ModelOptions:
        """A copy carrying only the user options (for a subclass to start from)."""
        return ModelOptions(**{k: getattr(self, k) for k in USER_OPTIONS if k != "namespace"})

    def update(self, **options: Any) -> None:
        """Set user options; None means "keep the inherited value"."""
        for key, value in options.items():
            if key not in USER_OPTIONS:
                raise TypeError(f"unknown model option {key!r}")
            if value is not None:
                setattr(self, key, value)
        if self.validation:
            self.coerce = True

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={getattr(self, k)!r}" for k in USER_OPTIONS)
        return f"ModelOptions({body})"
