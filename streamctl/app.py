"""The App: a registry of topics, agents, tables and timers (Faust's ``faust.App``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamctl.agents import Agent
from streamctl.context import Context
from streamctl.exceptions import ConfigurationError
from streamctl.models.codecs import get_codec
from streamctl.naming import agent_topic_name
from streamctl.redact import mask_url
from streamctl.settings import Settings
from streamctl.timers import Task, Timer
from streamctl.topics import Topic
from streamctl.transport.base import Producer, Transport

if TYPE_CHECKING:
    from streamctl.tables import Collection
    from streamctl.worker import Worker


class App:
    """``App('orders', broker='local://')``: declare topics, agents, tables, timers; then run."""

    def __init__(
        self,
        id: str,
        *,
        broker: str = "local://",
        datadir: str | Path | None = None,
        store: str = "sqlite://",
        **settings: Any,
    ) -> None:
        """``settings``: streamctl's (:class:`~streamctl.settings.Settings`) or Faust's
        names for them (``broker_commit_interval``, ...); Faust settings that do not
        apply here (``version``, ``web_enabled``, ...) warn once, naming the setting.
        ``store="rocksdb://"`` is the SQLite store (warned once). Raises
        ConfigurationError for a name neither knows, or a bad value (naming the setting as
        written, the value and what it takes); ``app.conf.x = ...`` is checked alike."""
        self.conf = Settings(id=id, broker=broker)
        # every setting is checked as an assignment on app.conf is, named as written here
        object.__setattr__(self.conf, "_on_change", self._conf_changed)
        given = {"store": store} if datadir is None else {"datadir": datadir, "store": store}
        self.conf.configure({**given, **settings})
        #: what this app's topics, agents, streams and timers use at run time
        self.context = Context(self.conf, app=self)
        self.topics: dict[str, Topic] = self.context.topics
        self.agents: dict[str, Agent] = {}
        self.tables: dict[str, Collection] = self.context.tables
        self.timers: list[Timer] = []
        #: Faust's ``app.loop`` (set by Faust's pytest fixtures); the worker runs its own
        self.loop: Any = None
        #: Faust's ``app.flow_control``: resume()/suspend() are accepted, and change nothing
        self.flow_control = FlowControl()

    def _conf_changed(self, name: str, value: Any, label: str) -> None:
        """Setting ``name`` (written ``label``) is about to be set (``App(...)`` or
        ``app.conf.x = ...``): refuse a serializer or store nothing answers to, naming
        the setting as written; re-point the tables not opened yet at a new store
        (``conf.store = "memory://"`` in a test fixture)."""
        try:
            if name in ("key_serializer", "value_serializer") and isinstance(value, str):
                get_codec(value)
            if name == "table_store" and value != "sqlite://":  # the default: no look-up
                from streamctl.tables.stores.registry import check_store_url

                check_store_url(value)
        except ConfigurationError as exc:
            raise ConfigurationError(f"setting {label}: {exc}") from None
        if name == "table_store":
            for table in getattr(self, "tables", {}).values():
                table.use_store(value)

    def finalize(self) -> None:
        """Faust's ``app.finalize()`` (its testing fixture calls it): nothing to do, the
        app is ready once declared."""

    def main(self, argv: list[str] | None = None) -> None:
        """Faust's ``app.main()``: this app's command line (``python app.py worker``).

        Subcommands: ``worker``, ``send``, ``tables``, ``agents``, ``models``/``model``;
        see :mod:`streamctl.cli.appmain`. Exits the process with the command's code.
        The CLI is imported here, on call, so the library does not depend on it.
        """
        from streamctl.seams import load_object

        load_object("streamctl.cli.appmain:main")(self, argv)

    @property
    def id(self) -> str:
        return self.conf.id

    @property
    def worker_running(self) -> bool:
        """True while a worker runs this app (sends then commit with its batches)."""
        return self.context.worker_running

    @worker_running.setter
    def worker_running(self, running: bool) -> None:
        self.context.worker_running = running

    def __repr__(self) -> str:
        return f"<App {self.id} broker={mask_url(self.conf.broker)}>"

    # -- declarations ----------------------------------------------------------------------
    def topic(self, name: str, **options: Any) -> Topic:
        """Declare (or get) a topic. Declaring one name twice with different partitions is an error."""
        return self.context.topic(name, **options)

    def agent(
        self,
        channel: Topic | str | None = None,
        *,
        name: str | None = None,
        concurrency: int = 1,
        sink: Iterable[Any] | None = None,
        dead_letter: str | Topic | None = None,
        on_error: str | None = None,
        key_type: Any = None,
        value_type: Any = None,
        help: str | None = None,
        **faust_options: Any,
    ) -> Callable[[Callable[..., Any]], Agent]:
        """Decorator: ``@app.agent(topic)`` over ``async def fn(stream)``.

        ``on_error`` says what happens to an event the agent raises on: ``"stop"``
        (the worker stops naming topic[partition]@offset; the batch is replayed on
        restart), ``"skip"`` (counted, logged, left out) or ``"dead_letter"`` (parked in
        ``dead_letter`` as it came, with headers naming the error); either way its table
        writes are rolled back and the agent goes on with the next event. Default:
        ``"dead_letter"`` when the agent or its topic has a dead-letter topic, else
        ``"stop"`` (Kafka Streams' processing-exception handler). Raises
        ConfigurationError for another value or ``"dead_letter"`` with no topic.

        ``key_type``/``value_type`` (Faust's): the types of the agent's own topic (no
        ``channel``, or a topic name). ``help`` documents it; Faust's
        ``supervisor_strategy`` and ``isolated_partitions=False`` are accepted.
        """
        for option, value in faust_options.items():
            if option == "supervisor_strategy" or (option == "isolated_partitions" and not value):
                continue
            raise ConfigurationError(f"app.agent(): option {option}={value!r} is not supported")
        types = {k: v for k, v in (("key_type", key_type), ("value_type", value_type)) if v}

        def decorate(fun: Callable[..., Any]) -> Agent:
            agent_name = name or fun.__name__
            if agent_name in self.agents:
                raise ConfigurationError(f"agent {agent_name!r} is declared twice")
            if channel is None:
                topic = self.topic(agent_topic_name(self.id, agent_name), internal=True, **types)
            elif isinstance(channel, str):
                known = self.topics.get(channel)
                topic = known if known is not None and not types else self.topic(channel, **types)
            else:
                if types:
                    raise ConfigurationError(
                        f"agent {agent_name!r}: key_type/value_type belong to its topic "
                        f"{channel.name!r}; declare them there"
                    )
                topic = channel
            agent = Agent(
                self.context,
                fun,
                channel=topic,
                name=agent_name,
                concurrency=concurrency,
                sink=sink,
                dead_letter=dead_letter,
                on_error=on_error,
            )
            if help:
                agent.__doc__ = help
            self.agents[agent_name] = agent
            return agent

        return decorate

    def timer(
        self,
        interval: float | timedelta,
        on_leader: bool = False,
        traced: bool = True,
        name: str | None = None,
    ) -> Callable[[Callable[..., Any]], Timer]:
        """Decorator: call an async function every ``interval`` seconds (or a timedelta)
        while a worker runs. Faust's signature: ``on_leader`` may be given by position;
        ``traced`` is accepted; ``name`` names the timer."""
        seconds = interval.total_seconds() if isinstance(interval, timedelta) else interval

        def decorate(fun: Callable[..., Any]) -> Timer:
            timer = Timer(self.context, fun, seconds, on_leader=on_leader)
            if name:
                timer.name = name
            self.timers.append(timer)
            return timer

        return decorate

    def task(self, fun: Callable[..., Any] | None = None, *, on_leader: bool = False) -> Any:
        """Decorator (Faust's ``@app.task``): run an async function once when a worker
        starts, beside the agents (it gets the app when it takes an argument)."""

        def decorate(f: Callable[..., Any]) -> Task:
            task = Task(self.context, f, on_leader=on_leader)
            self.timers.append(task)
            return task

        return decorate(fun) if fun is not None else decorate

    def repartition_topic(self, source: Topic, name: str, *, key_serializer: Any = None) -> Topic:
        """The internal topic a ``group_by`` on ``source`` writes to (created on first use;
        see :meth:`streamctl.context.Context.repartition_topic`)."""
        return self.context.repartition_topic(source, name, key_serializer=key_serializer)

    # -- tables (implemented in streamctl.tables; imported lazily) --------------------------
    def _register_table(self, kind: str, name: str, **kwargs: Any) -> Any:
        if name in self.tables:
            raise ConfigurationError(f"table {name!r} is declared twice")
        from streamctl import tables

        table = getattr(tables, kind)(self, name=name, **kwargs)
        self.tables[name] = table
        return table

    def Table(self, name: str, **kwargs: Any) -> Any:
        return self._register_table("Table", name, **kwargs)

    def GlobalTable(self, name: str, **kwargs: Any) -> Any:
        return self._register_table("GlobalTable", name, **kwargs)

    def SetTable(self, name: str, **kwargs: Any) -> Any:
        return self._register_table("SetTable", name, **kwargs)

    def SetGlobalTable(self, name: str, **kwargs: Any) -> Any:
        return self._register_table("SetGlobalTable", name, **kwargs)

    # -- connections ---------------------------------------------------------------------------
    @property
    def transport(self) -> Transport:
        return self.context.transport

    @property
    def producer(self) -> Producer:
        return self.context.producer

    def note_table_writers(self) -> None:
        """Note each agent's source topic as a writer of the tables its function's code
        names (:mod:`streamctl.tables.writers`; global tables have no partitions to
        match)."""
        from streamctl.tables.writers import tables_used_by

        for agent in self.agents.values():
            for table in tables_used_by(agent.fun, self.tables):
                if not table.is_global:
                    table.written_from(agent.channel)

    def check_partitions(self, existing: Mapping[str, int] | None = None) -> None:
        """Raise ConfigurationError unless each table is partitioned like the topics
        whose events write it, and like its changelog topic if that exists.

        ``existing``: topic name -> partitions the broker has (None: check the declared
        counts only, as ``streamctl validate`` does). A table's writers are the topics
        noted with ``table.written_from(topic)`` (step pipelines) and the sources of the
        Python agents whose code names the table (:mod:`streamctl.tables.writers`).
        Each table is checked only against its own writers (#9), as Faust checks a
        table against the topic of the event that writes it.
        """
        from streamctl.tables.manager import check_partitions

        self.note_table_writers()
        declared = {t.name: t.spec().partitions for t in self.topics.values()}
        check_partitions(self.tables.values(), declared, existing or {})

    def ensure_topics(self) -> None:
        """Create every declared topic (and dead-letter topic) the broker does not have,
        once every topic declared with ``partitions=`` matches the broker's count
        (:meth:`Topic.check_existing`) and :meth:`check_partitions` passes against what
        the broker has: a refused app creates no topic, changelog or store (#9)."""
        existing = {name: spec.partitions for name, spec in self.transport.list_topics().items()}
        self.check_partitions(existing)  # tables first: their errors say more
        for topic in self.topics.values():
            topic.check_existing(existing.get(topic.name))  # as send() does (#12)
        for topic in self.topics.values():
            topic.declared = True  # created below (or there): sends need not ask again
        specs = {t.name: t.spec() for t in self.topics.values()}
        for table in self.tables.values():
            spec = table.changelog_spec()
            if spec.name not in existing:  # stores that outlived their log are refused (#9)
                table.refuse_stores_without_log()
            specs.setdefault(spec.name, spec)
        owners: list[Topic | Agent] = [*self.topics.values(), *self.agents.values()]
        for owner in owners:
            dl = owner.dead_letter
            if dl and dl not in specs:
                specs[dl] = self.topic(dl).spec()
        self.transport.create_topics(specs.values())

    def worker(self, **options: Any) -> Worker:
        from streamctl.worker import Worker

        return Worker(self, **options)

    def run(self, *, until_idle: bool = False) -> int:
        """Run a worker in this process until stopped (or idle); returns the exit code."""
        return self.worker(until_idle=until_idle).run()

    def close(self) -> None:
        """Close the producer (writing what it holds), the tables, then the transport."""
        self.context.close()


class FlowControl:
    """Faust's ``app.flow_control``: its pytest fixture calls ``resume()``. The worker
    feeds streams one batch at a time, so there is nothing to suspend or resume."""

    is_active = True

    def resume(self) -> None:
        """Accepted; changes nothing."""

    def suspend(self) -> None:
        """Accepted; changes nothing."""

    def clear(self) -> None:
        """Accepted; changes nothing."""
