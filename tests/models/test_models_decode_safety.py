"""Hostile or broken input: every failure is a DecodeError (or its ValidationError), and a
namespace in the data never builds a class the expected type does not allow."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Optional

import pytest

from streamctl.exceptions import DecodeError
from streamctl.models import DecimalField, IntegerField, Record, Serde, ValidationError


class Item(Record, namespace="test.safety.Item", validation=True, isodates=True):
    sku: str
    qty: int = IntegerField(min_value=1)
    price: Decimal = DecimalField(max_digits=6, decimal_places=2)
    when: Optional[datetime] = None  # noqa: UP045
    blob: Optional[bytes] = None  # noqa: UP045


class Basket(Record, namespace="test.safety.Basket"):
    items: list[Item]
    by_name: dict[str, Item] = {}


class Unrelated(Record, namespace="test.safety.Unrelated"):
    sku: str
    qty: int = 0
    created: list[int] = []


class Animal(Record, namespace="test.safety.Animal"):
    name: str


class Dog(Animal, namespace="test.safety.Dog"):
    good: bool = True


class Zoo(Record, namespace="test.safety.Zoo", polymorphic_fields=True):
    name: str


class Lion(Zoo, namespace="test.safety.Lion"):
    roar: int = 1


class Pet(Record, abstract=True, namespace="test.safety.Pet"):
    name: str


class Cat(Pet, namespace="test.safety.Cat"):
    lives: int = 9


GOOD = {"sku": "a", "qty": 2, "price": "1.50"}

BAD_BYTES = [
    b"",
    b"{",
    b'{"sku": "a", "qty": 2',
    b'{"sku": "a", "qty": 2, "price": "1.50"',
    b"\xff\xfe\x00{}",
    b'{"sku": "\xc3\x28"}',
    b'{"sku": "a", "qty": NaN, "price": "1"}',
    b'{"sku": "a", "qty": Infinity, "price": "1"}',
    b'{"sku": "a", "qty": 1e400, "price": "1"}',
    b'{"sku": "a", "qty": ' + b"9" * 5000 + b', "price": "1"}',
    b"[" * 100_000,
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b"null",
    b"[]",
    b"123",
    b'"text"',
    b'{"sku": "a", "qty": "many", "price": "1"}',
    b'{"sku": "a", "qty": 0, "price": "1"}',
    b'{"sku": "a", "qty": true, "price": "1"}',
    b'{"sku": "a", "qty": 1, "price": "NaN"}',
    b'{"sku": "a", "qty": 1, "price": "1.234"}',
    b'{"sku": "a", "qty": 1, "price": "99999.9"}',
    b'{"sku": "a", "qty": 1, "price": "1e999999999"}',
    b'{"sku": "a", "qty": 1, "price": {"x": 1}}',
    b'{"sku": "a", "qty": 1, "price": "1", "when": "yesterday"}',
    b'{"sku": "a", "qty": 1, "price": "1", "when": 12}',
    b'{"sku": "a", "qty": 1, "price": "1", "blob": "***"}',
    b'{"sku": null, "qty": 1, "price": "1"}',
    b'{"sku": "", "qty": 1, "price": "1"}',
    b'{"qty": 1, "price": "1"}',
    b'{"sku": "a", "qty": 1.5, "price": "1"}',
    b'{"sku": "a", "qty": 1, "price": "1", "__faust": {"ns": "os.system"}}',
]


@pytest.mark.parametrize("payload", BAD_BYTES, ids=lambda b: repr(b[:40]))
def test_bad_payloads_raise_decode_error_only(payload):
    try:
        Item.loads(payload)
    except DecodeError as exc:
        assert str(exc)
    except BaseException as exc:  # pragma: no cover - the point of the test
        pytest.fail(f"{type(exc).__name__}: {exc}")
    else:
        assert b"os.system" in payload  # unknown namespace on a concrete type is ignored


@pytest.mark.parametrize("payload", BAD_BYTES, ids=lambda b: repr(b[:40]))
def test_serde_raises_decode_error_only(payload):
    serde = Serde(Basket)
    wrapped = b'{"items": [' + payload + b"]}"
    for data in (payload, wrapped):
        with contextlib.suppress(DecodeError):
            serde.loads(data)


def test_validation_error_names_field_value_and_rule():
    with pytest.raises(ValidationError) as info:
        Item.loads(b'{"sku": "a", "qty": 0, "price": "1"}')
    err = info.value
    assert (err.model, err.field, err.value, err.rule) == ("Item", "qty", 0, "must be >= 1")
    assert str(err) == "Item.qty: must be >= 1; got 0"


def test_nested_errors_carry_the_full_path():
    with pytest.raises(ValidationError) as info:
        Basket.from_data({"items": [GOOD, {**GOOD, "qty": -1}]})
    assert info.value.field == "items[1].qty"
    with pytest.raises(ValidationError) as info:
        Basket.from_data({"items": [], "by_name": {"x": {**GOOD, "price": "x"}}})
    assert info.value.field == "by_name['x'].price"
    with pytest.raises(ValidationError) as info:
        Basket.from_data({"items": [GOOD, 3]})
    assert info.value.field == "items[1]"


def test_huge_value_is_truncated_in_the_message():
    with pytest.raises(ValidationError) as info:
        Item.from_data({**GOOD, "qty": "x" * 10_000})
    assert len(str(info.value)) < 300


def test_all_errors_are_collected():
    with pytest.raises(ValidationError) as info:
        Item(sku="", qty=0, price=Decimal("1.234"))
    assert [e.field for e in info.value.errors] == ["sku", "qty", "price"]
    assert "and 2 more errors" in str(info.value)


def test_namespace_of_unrelated_class_is_ignored_for_a_concrete_type():
    data = {**GOOD, "__faust": {"ns": "test.safety.Unrelated"}}
    assert type(Item.from_data(data)) is Item


def test_namespace_of_a_subclass_is_ignored_without_polymorphic_fields():
    data = {"name": "rex", "good": False, "__faust": {"ns": "test.safety.Dog"}}
    assert type(Animal.from_data(data)) is Animal


def test_namespace_of_a_subclass_is_honoured_with_polymorphic_fields():
    data = {"name": "leo", "roar": 3, "__faust": {"ns": "test.safety.Lion"}}
    lion = Zoo.from_data(data)
    assert type(lion) is Lion and lion.roar == 3
    assert type(Zoo.from_data({**data, "__faust": {"ns": "test.safety.Dog"}})) is Zoo


def test_abstract_type_needs_a_known_concrete_subclass():
    cat = Pet.from_data({"name": "tom", "__faust": {"ns": "test.safety.Cat"}})
    assert type(cat) is Cat
    for ns in ("test.safety.Dog", "nope.Nope", "builtins.object"):
        with pytest.raises(DecodeError):
            Pet.from_data({"name": "x", "__faust": {"ns": ns}})
    with pytest.raises(DecodeError, match="abstract"):
        Pet.from_data({"name": "x"})


def test_record_loads_refuses_unknown_namespace():
    with pytest.raises(DecodeError, match="unknown"):
        Record.loads(json.dumps({"__faust": {"ns": "os.system"}}).encode())


def test_malformed_metadata_is_ignored_on_a_concrete_type():
    for meta in (None, 1, "x", [], {"ns": 5}, {}):
        assert Item.from_data({**GOOD, "__faust": meta}).sku == "a"


def test_no_pickle_codec():
    from streamctl.exceptions import ConfigurationError
    from streamctl.models import get_codec

    with pytest.raises(ConfigurationError):
        get_codec("pickle")


def test_recursive_model_deep_data_is_a_decode_error():
    class Node(Record, namespace="test.safety.Node"):
        children: list[Node] = []

    data: dict = {"children": []}
    cur = data
    for _ in range(5000):
        nxt: dict = {"children": []}
        cur["children"].append(nxt)
        cur = nxt
    with pytest.raises(DecodeError):
        Node.from_data(data)
    assert Node.from_data({"children": [{"children": []}]}).children[0] == Node()
