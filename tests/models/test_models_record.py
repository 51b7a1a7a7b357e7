"""Record behaviour a Faust user relies on: construction, options, equality, (de)serialization."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import ClassVar, Optional

import pytest

from streamctl.exceptions import DecodeError
from streamctl.models import (
    FieldDescriptor,
    IntegerField,
    Model,
    ModelOptions,
    Record,
    Serde,
    StringField,
    ValidationError,
    maybe_model,
    registry,
)


class Point(Record):
    x: int
    y: int = 0


class Customer(Record, namespace="test.record.Customer"):
    id: str
    name: str = "anon"


class Order(Record, namespace="test.record.Order"):
    id: int
    customer: Customer
    tags: list[str]
    note: Optional[str]  # noqa: UP045 - Faust users write Optional
    created: datetime = None  # type: ignore[assignment]

    class Meta:
        serializer = "json"
        isodates = True


def test_positional_and_keyword_construction():
    assert Point(1, 2) == Point(x=1, y=2) == Point(1, y=2)
    assert Point(1).y == 0


def test_unknown_keyword_is_a_type_error_like_a_dataclass():
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Point(1, z=3)


def test_missing_and_duplicate_arguments():
    with pytest.raises(TypeError, match="missing 1 required argument: 'x'"):
        Point()
    with pytest.raises(TypeError, match="multiple values for argument 'x'"):
        Point(1, x=2)
    with pytest.raises(TypeError, match="takes 3 positional arguments but 4 were given"):
        Point(1, 2, 3)


def test_optional_fields_default_to_none_and_follow_required_positionally():
    o = Order(1, Customer("c"), ["a"])
    assert o.note is None and o.created is None


def test_non_default_after_default_in_one_body_is_an_error():
    with pytest.raises(TypeError, match="non-default field 'b' follows default"):

        class Bad(Record):
            a: int = 1
            b: int


def test_inherited_fields_come_first():
    class Point3(Point):
        z: int = 0

    assert list(Point3._options.fields) == ["x", "y", "z"]
    assert Point3(1, 2, 3).asdict() == {"x": 1, "y": 2, "z": 3}


def test_classvar_is_not_a_field():
    class WithClassVar(Record):
        kind: ClassVar[str] = "k"
        a: int

    assert list(WithClassVar._options.fields) == ["a"]


def test_equality_repr_hash_and_order():
    assert Point(1, 2) != Point(2, 1)
    assert Point(1, 2) != (1, 2)
    assert repr(Point(1, 2)) == "Point(x=1, y=2)"
    assert hash(Point(1, 2)) == hash(Point(1, 2))
    assert {Point(1, 2): "a"}[Point(1, 2)] == "a"
    assert sorted([Point(2, 0), Point(1, 5)]) == [Point(1, 5), Point(2, 0)]


def test_equality_needs_the_same_class():
    class Other(Record):
        x: int
        y: int = 0

    assert Other(1, 2) != Point(1, 2)


def test_class_attribute_is_the_field_descriptor():
    assert isinstance(Point.x, FieldDescriptor)
    assert Point.x.field == "x" and Point.x.model is Point
    assert Point.y.default == 0 and not Point.y.required


def test_asdict_keeps_nested_models_and_to_representation_flattens():
    o = Order(1, Customer("c"), ["a"], created=datetime(2024, 1, 1, tzinfo=timezone.utc))
    assert o.asdict()["customer"] == Customer("c")
    rep = o.to_representation()
    assert rep["customer"] == {
        "id": "c",
        "name": "anon",
        "__faust": {"ns": "test.record.Customer"},
    }
    assert rep["created"] == "2024-01-01T00:00:00+00:00"
    assert rep["__faust"] == {"ns": "test.record.Order"}


def test_dumps_loads_round_trip():
    o = Order(1, Customer("c", "Ann"), ["a", "b"], "hi", datetime(2024, 1, 1))
    data = o.dumps()
    assert json.loads(data)["__faust"]["ns"] == "test.record.Order"
    assert Order.loads(data) == o
    assert Order.loads(o.dumps(serializer="json|binary"), serializer="json|binary") == o


def test_loads_through_abstract_record_uses_the_namespace():
    o = Order(1, Customer("c"), [])
    assert Record.loads(o.dumps()) == o
    assert maybe_model(json.loads(o.dumps())) == o
    assert maybe_model({"x": 1}) == {"x": 1}


def test_nested_dict_is_converted_on_construction():
    o = Order(1, {"id": "c"}, [])
    assert o.customer == Customer("c")


def test_derive():
    p = Point(1, 2)
    assert p.derive(y=5) == Point(1, 5)
    assert p.derive(Point(7, 8), x=0) == Point(0, 8)
    assert p == Point(1, 2)


def test_options_from_keywords_and_meta():
    class K(Record, serializer="raw", validation=True, include_metadata=False):
        a: int

    opts = K._options
    assert isinstance(opts, ModelOptions)
    assert (opts.serializer, opts.validation, opts.include_metadata) == ("raw", True, False)
    assert opts.coerce  # validation implies coerce, as in Faust
    assert Order._options.serializer == "json" and Order._options.isodates
    assert Point._options.include_metadata is True


def test_unknown_option_is_rejected():
    with pytest.raises(TypeError):

        class Bad(Record, serialiser="json"):  # type: ignore[call-arg]
            a: int

    with pytest.raises(TypeError, match="unknown option"):

        class Bad2(Record):
            a: int

            class Meta:
                serialiser = "json"


def test_default_namespace_is_module_and_qualname_and_registered():
    assert Point._options.namespace == f"{__name__}.Point"
    assert registry[f"{__name__}.Point"] is Point
    assert registry["test.record.Order"] is Order


def test_include_metadata_false():
    class NoMeta(Record, include_metadata=False):
        a: int

    assert NoMeta(1).to_representation() == {"a": 1}


def test_mutable_defaults_are_not_shared():
    class Bag(Record):
        items: list[int] = []
        extra: dict[str, int] = FieldDescriptor(default_factory=dict)

    a, b = Bag(), Bag()
    a.items.append(1)
    a.extra["k"] = 1
    assert b.items == [] and b.extra == {}


def test_excluded_field_is_not_serialized():
    class Secretive(Record):
        a: int
        secret: str = FieldDescriptor(default="s", exclude=True)

    s = Secretive(1, "x")
    assert s.asdict() == {"a": 1}
    assert "secret" not in json.loads(s.dumps())
    assert Secretive.loads(s.dumps()).secret == "s"


def test_input_and_output_names():
    class Renamed(Record, include_metadata=False):
        from_: str = StringField(input_name="from", required=True)

    r = Renamed.from_data({"from": "x"})
    assert r.from_ == "x"
    assert r.to_representation() == {"from": "x"}


def test_post_init_runs_for_python_and_wire_construction():
    class Totals(Record):
        a: int
        b: int
        total: int = 0

        def __post_init__(self) -> None:
            self.total = self.a + self.b

    assert Totals(1, 2).total == 3
    assert Totals.from_data({"a": 2, "b": 2}).total == 4


def test_abstract_models_cannot_be_instantiated():
    class Base(Record, abstract=True):
        a: int

    with pytest.raises(TypeError, match="abstract"):
        Base(1)
    with pytest.raises(TypeError, match="abstract"):
        Record()


def test_loading_keeps_unknown_keys_as_attributes_never_shadowing_methods():
    # Faust's non-strict init (from_data) sets unknown keys as attributes (#12)
    p = Point.from_data({"x": 1, "y": 2, "z": 3, "dumps": "no", "_secret": 1})
    assert p == Point(1, 2)
    assert p.z == 3
    assert callable(p.dumps)
    assert not hasattr(p, "_secret")
    assert "z" not in p.asdict()


def test_serde_uses_from_data_and_the_model_serializer():
    serde = Serde(Order)
    o = Order(1, Customer("c"), ["t"])
    assert serde.loads(serde.dumps(o)) == o
    with pytest.raises(DecodeError):
        serde.loads(b'{"id": 1}')


def test_model_is_the_base_and_validation_api_exists():
    class V(Record, validation=False):
        q: int = IntegerField(min_value=1)

    v = V(0)
    assert isinstance(v, Model)
    assert not v.is_valid()
    [error] = v.validation_errors
    assert isinstance(error, ValidationError)
    assert (error.field, error.value, error.rule) == ("q", 0, "must be >= 1")
    with pytest.raises(ValidationError):
        v.validate_or_raise()
    assert V(2).validate() == []


def test_decimal_and_datetime_without_isodates_stay_as_faust_leaves_them():
    class Raw(Record):
        when: datetime
        amount: Decimal

    r = Raw.from_data({"when": "2024-01-01T00:00:00", "amount": "1.5"})
    assert r.when == "2024-01-01T00:00:00" and r.amount == "1.5"

    class Parsed(Record, isodates=True, decimals=True):
        when: datetime
        amount: Decimal

    p = Parsed.from_data({"when": "2024-01-01T00:00:00Z", "amount": "1.5"})
    assert p.when == datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert p.amount == Decimal("1.5")
