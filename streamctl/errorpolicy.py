"""The per-record error policy's vocabulary: ``on_error`` values, and blaming a step.

An agent's ``on_error`` (Kafka Streams' processing-exception handler: FAIL is
``stop``, CONTINUE is ``skip``; ``dead_letter`` parks the record, as Redpanda
Connect's ``catch`` routes it) says what the worker does with an event the agent
raises on. The step that raised is noted on the exception (:func:`blame`) where it
is caught, at no cost per event, and read back (:func:`blamed`) to name it.
"""

from __future__ import annotations

from typing import Any

from streamctl.exceptions import ConfigurationError

#: what an agent does with an event it fails on (Kafka Streams' processing-exception
#: handler: FAIL is ``stop``, CONTINUE is ``skip``; ``dead_letter`` parks the record)
ON_ERROR = ("stop", "skip", "dead_letter")

#: (step kind, where): ``("filter", "orders.yaml:12")``, ``("agent", "mymod.py:40")``
Blame = tuple[str, str]


def blame(exc: BaseException, label: Blame | None) -> None:
    """Note on ``exc`` the step that raised it, unless an inner step did already."""
    if label is not None and getattr(exc, "streamctl_step", None) is None:
        try:
            vars(exc)["streamctl_step"] = label
        except TypeError:
            pass  # an exception type without a __dict__: no step named


def blamed(exc: BaseException) -> Blame | None:
    """The step :func:`blame` noted on ``exc``, if any."""
    label = getattr(exc, "streamctl_step", None)
    return label if isinstance(label, tuple) else None


def check_on_error(on_error: str | None, dead_letter: str | None, what: str) -> None:
    """Raise ConfigurationError for an unknown policy or ``dead_letter`` without a topic."""
    if on_error is None:
        return
    if on_error not in ON_ERROR:
        raise ConfigurationError(
            f"{what}: on_error must be one of {', '.join(ON_ERROR)}, not {on_error!r}"
        )
    if on_error == "dead_letter" and not dead_letter:
        raise ConfigurationError(f"{what}: on_error: dead_letter needs a dead_letter topic")


def innermost(exc: BaseException, fun: Any) -> Blame:
    """("agent", "file.py:line"): the last line of the agent's own file in the traceback."""
    code = getattr(fun, "__code__", None)
    home = code.co_filename if code is not None else None
    where = "?"
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename == home or where == "?":
            where = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return ("agent", where)
