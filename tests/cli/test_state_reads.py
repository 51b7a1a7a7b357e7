"""Reads never write, and a store ahead of its log is refused, not wiped (#9 section 5)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from state_support import (
    dump,
    one_line_error,
    pipeline,
    read_only,
    run,
    send_words,
    snapshot,
    stores,
)
from support import cli

WORDS = ["a", "b", "a", "c", "a", "b"]
COUNTS = {"a": 3, "b": 2, "c": 1}


@pytest.fixture
def counted(tmp_path: Path) -> tuple[Path, Path]:
    """A pipeline whose worker counted WORDS and stopped: (pipeline, data dir)."""
    pipe, datadir = pipeline(tmp_path), tmp_path / "data"
    send_words(pipe, datadir, WORDS)
    run(pipe, datadir)
    assert dump(pipe, datadir) == COUNTS
    return pipe, datadir


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_reads_and_run_refuse_stores_ahead_of_a_lost_log_and_keep_them(counted, how):
    pipe, datadir = counted
    before = stores(datadir)
    for sidecar in ("broker.db-wal", "broker.db-shm"):
        (datadir / sidecar).unlink(missing_ok=True)
    if how == "deleted":
        (datadir / "broker.db").unlink()
    else:
        (datadir / "broker.db").write_bytes(b"")

    for args in (["dump", pipe, "counts"], ["get", pipe, "counts", "a"]):
        result = cli("table", *args, "-d", datadir)
        one_line_error(result, "table counts partition", "changelog ends before it")
        assert "restore the log (broker.db)" in result.stderr
        assert result.stdout == ""  # never a made-up {}
        assert "rebuilding" not in result.stderr
        assert (datadir / "broker.db").exists() == (how == "emptied")  # reads created no log
        assert stores(datadir) == before

    for args in (["run", pipe, "--until-idle"], ["send", "words", '{"w": "a"}', "-p", pipe]):
        result = cli(*args, "-d", datadir)
        one_line_error(result, "changelog ends before it (next offset 0)", "nothing was changed")
        assert stores(datadir) == before
        assert (datadir / "broker.db").exists() == (how == "emptied")  # no new, empty log


def test_reads_in_an_empty_folder_create_nothing(tmp_path: Path, monkeypatch):
    pipe = pipeline(tmp_path)
    cwd = tmp_path / "empty"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    for args in (
        ["table", "dump", pipe, "counts"],
        ["table", "list", pipe],
        ["topic", "list"],
        ["topic", "list", "-p", pipe],
        ["validate", pipe],
    ):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
        assert list(cwd.iterdir()) == [], args
    assert cli("table", "dump", pipe, "counts").stdout.strip() == "{}"
    assert cli("table", "get", pipe, "counts", "a").exit_code == 1  # no such key: nothing made
    assert cli("topic", "tail", "words", "-p", pipe).exit_code == 2
    assert list(cwd.iterdir()) == []


def test_reads_catch_stores_up_in_memory_and_leave_the_files(counted):
    pipe, datadir = counted
    store = datadir / "stores" / "counter" / "counts"
    old = {p.name: p.read_bytes() for p in store.glob("*.sqlite3")}
    send_words(pipe, datadir, ["a", "d"])
    run(pipe, datadir)
    for name, data in old.items():  # the stores as they were before the second run
        for sidecar in ("-wal", "-shm"):
            Path(f"{store / name}{sidecar}").unlink(missing_ok=True)
        (store / name).write_bytes(data)
    before = snapshot(datadir)
    assert dump(pipe, datadir) == {**COUNTS, "a": 4, "d": 1}  # the log's state
    assert cli("table", "get", pipe, "counts", "d", "-d", datadir).stdout.strip() == "1"
    assert snapshot(datadir) == before  # replayed into memory, not into the files
    shutil.rmtree(store)
    assert dump(pipe, datadir) == {**COUNTS, "a": 4, "d": 1}
    assert not store.exists()  # a deleted store is not recreated by a read
    run(pipe, datadir)  # the worker catches the stores up
    assert sorted(p.name for p in store.glob("*.sqlite3")) == ["0.sqlite3", "1.sqlite3"]


def test_read_only_media_reads_work_and_writes_say_one_line(counted):
    pipe, datadir = counted
    with read_only(datadir):
        assert dump(pipe, datadir) == COUNTS
        assert cli("table", "get", pipe, "counts", "a", "-d", datadir).stdout.strip() == "3"
        listed = cli("topic", "list", "-d", datadir, "--json")
        assert listed.exit_code == 0 and '"words"' in listed.stdout
        tail = cli("topic", "tail", "words", "-d", datadir, "-n", "1")
        assert tail.exit_code == 0 and '"offset"' in tail.stdout
        # a data dir that cannot be written is bad input (exit 2), as one that cannot be made
        one_line_error(cli("send", "words", '{"w": "x"}', "-d", datadir), "read-only", code=2)
        one_line_error(cli("run", pipe, "-d", datadir, "--until-idle"), "read-only", code=2)
        result = cli("table", "set", pipe, "counts", "z", "1", "-d", datadir)
        one_line_error(result, "read-only", code=2)


def test_read_only_stores_in_a_writable_data_dir(counted):
    pipe, datadir = counted
    store = datadir / "stores"
    before = stores(datadir)
    with read_only(store):
        assert dump(pipe, datadir) == COUNTS
        result = cli("run", pipe, "-d", datadir, "--until-idle")
        one_line_error(result, "table store", "is read-only", "a worker needs it writable", code=2)
        assert "OSError" not in result.stderr
    assert stores(datadir) == before


def test_a_directory_where_a_store_file_belongs(counted):
    pipe, datadir = counted
    path = datadir / "stores" / "counter" / "counts" / "1.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.mkdir()
    (path / "keep.txt").write_text("mine")
    for args in (["table", "dump", pipe, "counts"], ["run", pipe, "--until-idle"]):
        result = cli(*args, "-d", datadir)
        one_line_error(result, f"table store {path} is a directory", "move it away", code=2)
        assert "IsADirectoryError" not in result.stderr
    assert (path / "keep.txt").read_text() == "mine"
    assert os.path.isdir(path)


def test_a_damaged_store_value_names_its_table_and_key(counted):
    pipe, datadir = counted
    changed = 0
    for path in (datadir / "stores" / "counter" / "counts").glob("*.sqlite3"):
        db = sqlite3.connect(path)
        changed += db.execute("UPDATE data SET value=? WHERE key=?", (b"{3", b'"b"')).rowcount
        db.commit()
        db.close()
    assert changed == 1
    for args in (["dump", pipe, "counts"], ["get", pipe, "counts", "b"]):
        result = cli("table", *args, "-d", datadir)
        one_line_error(result, "table 'counts'", "key 'b'", "cannot be decoded", "rebuild")
