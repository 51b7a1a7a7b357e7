"""streamctl: Faust-style stateful stream processing with a declarative CLI."""

__version__ = "0.1.0.dev0"
