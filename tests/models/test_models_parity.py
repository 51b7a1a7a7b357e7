"""A YAML-defined model behaves exactly like the hand-written Record with the same fields."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Optional

import pytest

from streamctl.models import (
    DatetimeField,
    DecimalField,
    IntegerField,
    Record,
    StringField,
    ValidationError,
    build_models,
    dump_schema,
    model_json_schema,
)
from streamctl.models.schema import validate_data


class Customer(Record, namespace="parity.Customer", validation=True, isodates=True, decimals=True):
    id: str
    level: str = StringField(choices=["gold", "silver"], default="silver")


class Order(Record, namespace="parity.Order", validation=True, isodates=True, decimals=True):
    id: int
    customer: Customer
    quantity: int = IntegerField(min_value=1, max_value=100)
    price: Decimal = DecimalField(max_digits=10, decimal_places=2)
    code: str = StringField(pattern=r"^[A-Z]{3}$", min_length=3, max_length=3)
    created: datetime = DatetimeField(timezone="UTC")
    tags: list[str] = []
    attrs: dict[str, int] = {}
    note: Optional[str] = None  # noqa: UP045
    weight: float = 1.0
    paid: bool = False
    blob: Optional[bytes] = None  # noqa: UP045


YAML = {
    "Order": {
        "options": {"namespace": "parity.Order", "validation": True, "include_metadata": True},
        "fields": {
            "id": "int",
            "customer": "Customer",
            "quantity": {"type": "int", "min": 1, "max": 100},
            "price": {"type": "decimal", "max_digits": 10, "decimal_places": 2},
            "code": {"type": "str", "pattern": "^[A-Z]{3}$", "min_length": 3, "max_length": 3},
            "created": {"type": "datetime", "timezone": "UTC"},
            "tags": {"type": "list[str]", "default": []},
            "attrs": {"type": "dict[str, int]", "default": {}},
            "note": "str?",
            "weight": {"type": "float", "default": 1.0},
            "paid": {"type": "bool", "default": False},
            "blob": "Optional[bytes]",
        },
    },
    "Customer": {
        "options": {"namespace": "parity.Customer", "validation": True, "include_metadata": True},
        "fields": {
            "id": "str",
            "level": {"type": "str", "enum": ["gold", "silver"], "default": "silver"},
        },
    },
}


def _hand_written():
    return {"Order": Order, "Customer": Customer}


def _yaml_built():
    return build_models(YAML)


@pytest.fixture(params=["python", "yaml"])
def models(request):
    # Building YAML models re-registers the namespaces; restore the hand-written ones after.
    from streamctl.models import registry

    saved = dict(registry)
    yield _hand_written() if request.param == "python" else _yaml_built()
    registry.clear()
    registry.update(saved)


WIRE = {
    "id": 7,
    "customer": {"id": "c1"},
    "quantity": 3,
    "price": "19.90",
    "code": "ABC",
    "created": "2024-05-01T14:00:00+02:00",
    "tags": ["x"],
    "attrs": {"a": 1},
    "blob": "aGk=",
}


class TestParity:
    def test_fields_and_options(self, models):
        OrderModel = models["Order"]
        assert list(OrderModel._options.fields) == list(Order._options.fields)
        assert OrderModel._options.namespace == "parity.Order"
        assert (
            OrderModel._options.validation,
            OrderModel._options.isodates,
            OrderModel._options.decimals,
        ) == (True,) * 3
        assert [
            OrderModel._options.descriptors[n].required for n in OrderModel._options.fields
        ] == [Order._options.descriptors[n].required for n in Order._options.fields]
        assert type(OrderModel.quantity) is type(Order.quantity)

    def test_construction_and_defaults(self, models):
        OrderModel, CustomerModel = models["Order"], models["Customer"]
        o = OrderModel(1, CustomerModel("c"), 5, Decimal("1.00"), "XYZ", datetime(2024, 1, 1))
        assert o.customer.level == "silver"
        assert (o.tags, o.attrs, o.note, o.weight, o.paid, o.blob) == (
            [],
            {},
            None,
            1.0,
            False,
            None,
        )
        assert o.created == datetime(2024, 1, 1, tzinfo=timezone.utc)
        assert (
            o.tags
            is not OrderModel(
                1, CustomerModel("c"), 5, Decimal("1"), "XYZ", datetime(2024, 1, 1)
            ).tags
        )

    def test_loads_and_dumps(self, models):
        OrderModel = models["Order"]
        o = OrderModel.loads(json.dumps(WIRE).encode())
        assert o.price == Decimal("19.90") and o.blob == b"hi"
        assert o.created == datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
        out = json.loads(o.dumps())
        assert out["created"] == "2024-05-01T12:00:00+00:00"
        assert out["price"] == "19.90" and out["blob"] == "aGk="
        assert out["__faust"] == {"ns": "parity.Order"}
        assert out["customer"]["__faust"] == {"ns": "parity.Customer"}
        assert OrderModel.loads(o.dumps()) == o

    def test_same_bytes_from_both(self, models):
        python = Order.from_data(dict(WIRE)).dumps()
        assert models["Order"].from_data(dict(WIRE)).dumps() == python

    @pytest.mark.parametrize(
        ("change", "field", "rule"),
        [
            ({"quantity": 0}, "quantity", "must be >= 1"),
            ({"quantity": 101}, "quantity", "must be <= 100"),
            ({"price": "1.234"}, "price", "must have at most 2 decimal places"),
            (
                {"price": "123456789.1"},
                "price",
                "must have at most 8 digits before the decimal point",
            ),
            ({"code": "abc"}, "code", "must match pattern '^[A-Z]{3}$'"),
            ({"code": "ABCD"}, "code", "length must be <= 3"),
            (
                {"customer": {"id": "c", "level": "bronze"}},
                "customer.level",
                "must be one of ['gold', 'silver']",
            ),
            ({"customer": {"id": ""}}, "customer.id", "must not be blank"),
            ({"tags": "x"}, "tags", "expected list[str]"),
            ({"tags": ["a", None]}, "tags[1]", "expected str"),
            (
                {"attrs": {"a": "x"}},
                "attrs['a']",
                "cannot convert: invalid literal for int() with base 10: 'x'",
            ),
            (
                {"weight": "heavy"},
                "weight",
                "cannot convert to float: could not convert string to float: 'heavy'",
            ),
            ({"paid": "yes"}, "paid", "expected bool"),
            (
                {"created": "tomorrow"},
                "created",
                "cannot convert to datetime: Invalid isoformat string: 'tomorrow'",
            ),
            ({"blob": "!!"}, "blob", "invalid base64 for bytes"),
            ({"id": None}, "id", "is required (null given)"),
        ],
    )
    def test_validation_errors(self, models, change, field, rule):
        with pytest.raises(ValidationError) as info:
            models["Order"].from_data({**WIRE, **change})
        assert (info.value.field, info.value.rule) == (field, rule)

    def test_missing_required_field(self, models):
        data = dict(WIRE)
        del data["code"]
        with pytest.raises(ValidationError, match=r"Order.code: is required"):
            models["Order"].from_data(data)

    def test_schema_is_identical(self, models):
        assert dump_schema(models["Order"]) == dump_schema(Order)
        assert dump_schema(models["Customer"]) == dump_schema(Customer)

    def test_schema_accepts_what_we_emit(self, models):
        OrderModel = models["Order"]
        data = json.loads(OrderModel.from_data(dict(WIRE)).dumps())
        validate_data(OrderModel, data)
        schema = model_json_schema(OrderModel)
        assert schema["additionalProperties"] is True
        assert set(schema["required"]) == {"id", "customer", "quantity", "price", "code", "created"}
