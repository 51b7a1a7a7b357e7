"""Hostile clients against a worker's two HTTP servers (#15 review): a slow or idle
client is dropped after the read timeout (it held a thread forever), HEAD answers as
GET without a body, every other standard method is 405 (OPTIONS and TRACE were 501),
and the control channel refuses bodies that are too large, negative or not an object."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streamctl import App
from streamctl.observe import handler
from streamctl.observe.control import MAX_BODY, ControlServer
from streamctl.observe.server import WebServer


@pytest.fixture
def servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    monkeypatch.setattr(handler.JsonHandler, "timeout", 0.5)
    app = App("hostile", broker="memory://", datadir=tmp_path / "data")
    app.Table("counts", default=int)
    worker = app.worker(install_signal_handlers=False)
    web = WebServer(worker, "127.0.0.1", 0).start()
    control = ControlServer(worker).start()
    try:
        yield web.url, control
    finally:
        web.close()
        control.close()
        app.close()


def status(url: str, method: str = "GET", **kw: Any) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url, method=method, **kw)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def test_a_slow_client_is_dropped_and_others_are_served(servers: tuple[str, Any]) -> None:
    url, _ = servers
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    for s in slow:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
        s.settimeout(5)
    assert status(url + "healthz")[0] == 200
    for s in slow:
        assert s.recv(100) == b""  # closed by the server (without a timeout: socket.timeout)
        s.close()


def test_methods(servers: tuple[str, Any]) -> None:
    url, _ = servers
    code, body, headers = status(url + "healthz", "HEAD")
    assert (code, body) == (200, b"") and int(headers["Content-Length"]) > 0
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
        code, body, headers = status(url + "api/tables/counts/a", method)
        assert code == 405, method
        assert headers["Allow"] == "GET, HEAD"
        if method != "HEAD":
            assert "read-only" in json.loads(body)["error"]


def test_the_control_channel_refuses_bad_bodies(servers: tuple[str, Any]) -> None:
    _, control = servers
    base = f"http://127.0.0.1:{control.server_address[1]}/"
    auth = {"Authorization": f"Bearer {control.token}"}
    code, body, _ = status(base + "get", "POST", data=b"[1, 2]", headers=auth)
    assert code == 400 and "JSON object" in json.loads(body)["error"]
    code, body, _ = status(base + "get", "POST", data=b"{not json", headers=auth)
    assert code == 400
    for length in (str(MAX_BODY + 1), "-1"):
        port = control.server_address[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(
                f"POST /get HTTP/1.1\r\nHost: x\r\nAuthorization: {auth['Authorization']}\r\n"
                f"Content-Length: {length}\r\n\r\n".encode()
            )
            assert s.recv(100).startswith(b"HTTP/1.0 413"), length
