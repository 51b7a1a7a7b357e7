"""The exception root every streamctl error derives from."""

from __future__ import annotations


class StreamctlError(Exception):
    """Base class of every error streamctl raises on purpose.

    The CLI catches only this class and prints its message on one line.
    """

    exit_code = 1


class ConfigurationError(StreamctlError):
    """A pipeline file, option or argument is wrong; nothing was run."""

    exit_code = 2


class DecodeError(StreamctlError):
    """A record could not be decoded or validated."""
