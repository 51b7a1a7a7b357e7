"""Python apps on the command line: ``package.module:app`` targets (Faust's ``-A``).

``streamctl run package.module:app``, ``streamctl worker -A package.module:app`` and
every ``-p`` option take a Python app where they take a pipeline file: the module is
imported (the working directory first on ``sys.path``, as ``faust -A`` does) and its
``App`` is run by the same worker as a pipeline's. ``package.module`` alone means its
``app`` attribute, as in Faust.
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamctl.exceptions import ConfigurationError
from streamctl.wording import with_article

_TARGET = re.compile(r"^[A-Za-z_][\w.]*(:[A-Za-z_]\w*)?$")
_FILE_SUFFIXES = (".yaml", ".yml", ".json")

#: apps a running script handed over with ``app.main()``: target -> App
registered: dict[str, Any] = {}


@dataclass
class LoadedApp:
    """A Python app as a command gets it (the shape ``load_pipeline`` returns)."""

    app: Any
    warnings: list[str] = field(default_factory=list)


def is_app_target(target: Path | str) -> bool:
    """True for ``module:attr``, a dotted module name that is not a file here, or the
    name of a package (a folder with ``__init__.py``) here."""
    text = str(target)
    if text in registered:
        return True
    path = Path(text)
    if path.is_dir() and (path / "__init__.py").is_file() and _TARGET.match(text):
        # a package here, as in 'faust -A proj worker' run next to proj/__init__.py
        return True
    if path.exists() or text.lower().endswith(_FILE_SUFFIXES):
        return False
    return bool(_TARGET.match(text))


def not_an_app(module: Any, module_name: str, attr: str, app_class: type) -> str:
    """Why ``module.attr`` is not an App, and which attributes of the module are."""
    apps = sorted(k for k, v in vars(module).items() if isinstance(v, app_class))
    if apps:
        hint = "; its Apps: " + ", ".join(f"{module_name}:{k}" for k in apps)
    else:
        hint = "; it defines no streamctl App (an App(...) at module level)"
    if not hasattr(module, attr):
        return f"module {module_name!r} has no attribute {attr!r}, where a streamctl App was expected{hint}"
    found = type(getattr(module, attr))
    return f"{module_name}.{attr} is {with_article(found.__name__)}, where a streamctl App was expected{hint}"


def refuse_python_file(target: str) -> None:
    """Raise ConfigurationError for a Python file given where an app's module is expected
    (``-A wc.py``), with the module name to use instead (``wc`` or ``wc:app``)."""
    path = Path(target.partition(":")[0])
    if path.suffix != ".py":
        return
    parts = path.with_suffix("").parts
    if path.is_absolute() or not all(p.isidentifier() for p in parts):
        module, where = path.stem, f"the directory that holds {path.name}"
    else:
        module, where = ".".join(parts), "this directory"
    raise ConfigurationError(
        f"{target} is a file path, not a module: name the module instead, {module} (its "
        f"'app') or {module}:app, as in 'streamctl worker -A {module}', run from {where}"
    )


def refuse_malformed_target(target: str) -> None:
    """Raise ConfigurationError for an app target with an empty or malformed side of its
    ``:`` (``pv:``, ``:app``, ``a:b:c``) that is not a file here either, instead of
    reading it as a pipeline file that does not exist."""
    path = Path(target)
    if ":" not in target or _TARGET.match(target) or target in registered:
        return
    if path.exists() or target.lower().endswith(_FILE_SUFFIXES):
        return
    module = target.partition(":")[0] or "MODULE"
    module = module if re.fullmatch(r"[A-Za-z_][\w.]*", module) else "MODULE"
    raise ConfigurationError(
        f"{target}: the app must be given as module or module:attribute (both parts "
        f"Python names), as in 'streamctl worker -A {module}' or '-A {module}:app'"
    )


def load_app(
    target: str,
    broker: str | None = None,
    datadir: Path | None = None,
    broker_settings: dict[str, Any] | None = None,
) -> LoadedApp:
    """Import ``target`` and return its App, with the command line's broker, data dir
    and broker settings applied. Raises ConfigurationError for a module that does not
    import or an attribute that is not an App."""
    from streamctl.app import App
    from streamctl.settings import default_guarantee

    app = registered.get(target)
    if app is None:
        module_name, _, attr = target.partition(":")
        attr = attr or "app"
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise ConfigurationError(
                f"{target}: cannot import module {exc.name!r} (run from the directory "
                "that holds it, or install its package)"
            ) from None
        except ConfigurationError:
            raise
        except Exception as exc:
            raise ConfigurationError(
                f"{target}: importing {module_name!r} failed: {type(exc).__name__}: {exc}"
            ) from None
        app = getattr(module, attr, None)
        if not isinstance(app, App):
            raise ConfigurationError(f"{target}: {not_an_app(module, module_name, attr, App)}")
    conf = app.conf
    if broker is not None and broker != conf.broker:
        derived = conf.processing_guarantee == default_guarantee(conf.broker)
        conf.broker = broker
        if derived:
            conf.processing_guarantee = default_guarantee(broker)
    if datadir is not None:
        conf.datadir = Path(datadir)
    if broker_settings:
        conf.broker_settings.update(broker_settings)
    return LoadedApp(app)
