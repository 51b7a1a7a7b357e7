"""Field descriptors: constraints, coercion, time zones, validators and Faust's spellings."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Optional

import pytest

from streamctl.models import (
    BooleanField,
    BytesField,
    DatetimeField,
    DecimalField,
    FieldDescriptor,
    FloatField,
    IntegerField,
    Record,
    StringField,
    ValidationError,
    field_for_type,
)


def test_field_for_type_matches_faust():
    assert field_for_type(int) is IntegerField
    assert field_for_type(Optional[float]) is FloatField  # noqa: UP045
    assert field_for_type(str) is StringField
    assert field_for_type(bytes) is BytesField
    assert field_for_type(bool) is BooleanField
    assert field_for_type(Decimal) is DecimalField
    assert field_for_type(datetime) is DatetimeField
    assert field_for_type(list[int]) is FieldDescriptor


def test_number_bounds_on_construction():
    class N(Record, validation=True):
        i: int = IntegerField(min_value=0, max_value=10)
        f: float = FloatField(min_value=-1.0, max_value=1.0, default=0.0)

    assert N(0).i == 0 and N(10, 1.0).f == 1.0
    with pytest.raises(ValidationError, match=r"N.i: must be <= 10; got 11"):
        N(11)
    with pytest.raises(ValidationError, match=r"N.f: must be >= -1.0; got -2.0"):
        N(1, -2.0)
    with pytest.raises(ValidationError, match="finite"):
        N(1, float("nan"))
    assert N("7").i == 7  # validation implies coerce, as in Faust


def test_bad_bounds_are_rejected_at_definition():
    with pytest.raises(ValueError):
        IntegerField(min_value=3, max_value=1)
    with pytest.raises(ValueError):
        StringField(min_length=-1)
    with pytest.raises(ValueError):
        DecimalField(max_digits=1, decimal_places=2)


def test_decimal_digits_and_faust_spelling():
    class D(Record, validation=True):
        a: Decimal = DecimalField(max_digits=4, max_decimal_places=2)

    assert D.a.decimal_places == 2 and D.a.max_decimal_places == 2
    assert D(Decimal("12.34")).a == Decimal("12.34")
    assert D(Decimal("0.12")).a == Decimal("0.12")
    assert D(1.5).a == Decimal("1.5")  # floats via their shortest text, not binary noise
    for bad, rule in [
        ("123.4", "at most 2 digits before the decimal point"),
        ("1.234", "at most 2 decimal places"),
        ("1E+5", "at most 4 digits"),
        ("NaN", "finite"),
    ]:
        with pytest.raises(ValidationError, match=rule):
            D(Decimal(bad))


def test_string_rules():
    class S(Record, validation=True):
        code: str = StringField(min_length=2, max_length=4, pattern="^[a-z]+$")
        name: str = StringField(trim_whitespace=True, default="x")
        blank: str = StringField(allow_blank=True, default="")

    assert S("ab", "  Ann ").name == "Ann"
    assert S.from_data({"code": "abc", "name": " B "}).name == "B"
    with pytest.raises(ValidationError, match="length must be >= 2"):
        S("a")
    with pytest.raises(ValidationError, match="length must be <= 4"):
        S("abcde")
    with pytest.raises(ValidationError, match="must match pattern"):
        S("AB")
    with pytest.raises(ValidationError, match="must not be blank"):
        S("ab", "   ")


def test_choices_and_custom_validator():
    def even(v: int) -> bool:
        return v % 2 == 0

    def positive(v: int) -> None:
        if v <= 0:
            raise ValueError("not positive")

    class C(Record, validation=True):
        colour: str = StringField(choices=["red", "blue"])
        n: int = IntegerField(validator=even, default=2)
        m: int = FieldDescriptor(validator=positive, default=1)

    assert C("red").n == 2
    with pytest.raises(ValidationError, match=r"must be one of \['red', 'blue'\]"):
        C("green")
    with pytest.raises(ValidationError, match="rejected by even"):
        C("red", 3)
    with pytest.raises(ValidationError, match="rejected by positive: not positive"):
        C("red", 2, -1)


def test_datetime_timezone():
    class T(Record, isodates=True):
        at: datetime = DatetimeField(timezone="UTC")

    naive = T(datetime(2024, 1, 1, 12))
    assert naive.at.tzinfo is timezone.utc
    plus2 = timezone(timedelta(hours=2))
    assert T(datetime(2024, 1, 1, 12, tzinfo=plus2)).at == datetime(
        2024, 1, 1, 10, tzinfo=timezone.utc
    )
    assert T.from_data({"at": "2024-01-01T12:00:00+02:00"}).at.hour == 10
    with pytest.raises(ValueError, match="unknown timezone"):
        DatetimeField(timezone="Nowhere/Else")


def test_bytes_are_base64_on_the_wire():
    class B(Record, include_metadata=False):
        data: bytes

    b = B(b"\x00\xffhi")
    assert b.to_representation() == {"data": "AP9oaQ=="}
    assert B.loads(b.dumps()) == b


def test_field_level_coerce():
    class F(Record):
        n: int = IntegerField(coerce=True)
        m: int = 0

    assert F("5", "6").n == 5 and F("5", "6").m == "6"


def test_required_false_means_default_none():
    class R(Record):
        a: int = FieldDescriptor(required=False)

    assert R().a is None and not R.a.required


def test_descriptor_repr():
    assert repr(IntegerField(min_value=1)).startswith("<IntegerField")


def test_import_has_no_side_effects():
    code = (
        "import streamctl.models as m, sys; "
        "assert m.registry == {}, m.registry; "
        "assert 'orjson' in sys.modules or True"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
