"""The README's windowed-table example runs as written (#11)."""

from __future__ import annotations

import asyncio
import re

from support import ROOT


def test_readme_windowed_example_counts_per_minute(tmp_path) -> None:
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(from streamctl import App, TumblingWindow.*?)```", readme, re.S)
    assert code is not None
    text = code.group(1).replace(
        'broker="local://")', f'broker="local://", datadir={str(tmp_path)!r})'
    )
    ns: dict = {}
    exec(compile(text, "README.md", "exec"), ns)  # the README's own code, on purpose
    app = ns["app"]
    app.ensure_topics()
    for seconds in (1, 2, 61):
        asyncio.run(ns["views"].send(key="x", value={"page": "home"}, timestamp=seconds * 1000))
    assert app.run(until_idle=True) == 0
    assert dict(ns["per_minute"].items()) == {("home", (0.0, 59.9)): 2, ("home", (60.0, 119.9)): 1}
