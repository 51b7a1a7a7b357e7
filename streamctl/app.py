"""The App: a registry of topics, agents, tables and timers (Faust's ``faust.App``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamctl.agents import Agent
from streamctl.exceptions import ConfigurationError
from streamctl.naming import agent_topic_name, repartition_topic_name
from streamctl.settings import Settings
from streamctl.timers import Timer
from streamctl.topics import Topic
from streamctl.transport.base import Producer, Transport
from streamctl.transport.registry import open_transport

if TYPE_CHECKING:
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
        kwargs: dict[str, Any] = dict(settings)
        if datadir is not None:
            kwargs["datadir"] = Path(datadir)
        self.conf = Settings(id=id, broker=broker, table_store=store, **kwargs)
        self.topics: dict[str, Topic] = {}
        self.agents: dict[str, Agent] = {}
        self.tables: dict[str, Any] = {}
        self.timers: list[Timer] = []
        self.worker_running = False
        self._transport: Transport | None = None
        self._producer: Producer | None = None

    @property
    def id(self) -> str:
        return self.conf.id

    def __repr__(self) -> str:
        return f"<App {self.id} broker={self.conf.broker}>"

    # -- declarations ----------------------------------------------------------------------
    def topic(self, name: str, **options: Any) -> Topic:
        """Declare (or get) a topic. Declaring one name twice with different partitions is an error."""
        existing = self.topics.get(name)
        if existing is not None:
            wanted = options.get("partitions")
            if wanted is not None and existing.partitions not in (None, wanted):
                raise ConfigurationError(
                    f"topic {name!r} declared with {existing.partitions} and {wanted} partitions"
                )
            if not options:
                return existing
        topic = Topic(self, name, **options)
        self.topics[name] = topic
        return topic

    def agent(
        self,
        channel: Topic | str | None = None,
        *,
        name: str | None = None,
        concurrency: int = 1,
        sink: Iterable[Any] | None = None,
        dead_letter: str | Topic | None = None,
    ) -> Callable[[Callable[..., Any]], Agent]:
        """Decorator: ``@app.agent(topic)`` over ``async def fn(stream)``."""

        def decorate(fun: Callable[..., Any]) -> Agent:
            agent_name = name or fun.__name__
            if agent_name in self.agents:
                raise ConfigurationError(f"agent {agent_name!r} is declared twice")
            if channel is None:
                topic = self.topic(agent_topic_name(self.id, agent_name), internal=True)
            elif isinstance(channel, str):
                topic = self.topics.get(channel) or self.topic(channel)
            else:
                topic = channel
            agent = Agent(
                self,
                fun,
                channel=topic,
                name=agent_name,
                concurrency=concurrency,
                sink=sink,
                dead_letter=dead_letter,
            )
            self.agents[agent_name] = agent
            return agent

        return decorate

    def timer(
        self, interval: float, *, on_leader: bool = False
    ) -> Callable[[Callable[..., Any]], Timer]:
        """Decorator: call an async function every ``interval`` seconds while a worker runs."""

        def decorate(fun: Callable[..., Any]) -> Timer:
            timer = Timer(self, fun, interval, on_leader=on_leader)
            self.timers.append(timer)
            return timer

        return decorate

    def repartition_topic(self, source: Topic, name: str) -> Topic:
        """The internal topic a ``group_by`` on ``source`` writes to (created on first use)."""
        topic_name = repartition_topic_name(self.id, source.name, name)
        existing = self.topics.get(topic_name)
        if existing is not None:
            return existing
        return self.topic(
            topic_name,
            key_serializer="json",
            value_type=source.value_type,
            value_serializer=source.value_serde.codec,
            partitions=source.partitions,
            internal=True,
        )

    # -- tables (implemented in streamctl.tables; imported lazily) --------------------------
    def _register_table(self, kind: str, name: str, **kwargs: Any) -> Any:
        if name in self.tables:
            raise ConfigurationError(f"table {name!r} is declared twice")
        from streamctl import tables

        table = getattr(tables, kind)(self, name=name, **kwargs)
        self.tables[name] = table
        return table

    def Table(self, name: str, **kwargs: Any) -> Any:  # noqa: N802 - Faust's name
        return self._register_table("Table", name, **kwargs)

    def GlobalTable(self, name: str, **kwargs: Any) -> Any:  # noqa: N802
        return self._register_table("GlobalTable", name, **kwargs)

    def SetTable(self, name: str, **kwargs: Any) -> Any:  # noqa: N802
        return self._register_table("SetTable", name, **kwargs)

    def SetGlobalTable(self, name: str, **kwargs: Any) -> Any:  # noqa: N802
        return self._register_table("SetGlobalTable", name, **kwargs)

    # -- connections ---------------------------------------------------------------------------
    @property
    def transport(self) -> Transport:
        if self._transport is None:
            settings = dict(self.conf.broker_settings)
            if self.conf.exactly_once and self.conf.broker.startswith("kafka:"):
                # never read records of aborted (or still open) transactions
                settings.setdefault("isolation_level", "read_committed")
            self._transport = open_transport(
                self.conf.broker, datadir=self.conf.datadir, **settings
            )
        return self._transport

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            self._producer = self.transport.producer()
        return self._producer

    def ensure_topics(self) -> None:
        """Create every declared topic (and dead-letter topic) the broker does not have."""
        specs = {t.name: t.spec() for t in self.topics.values()}
        for table in self.tables.values():
            spec = table.changelog_spec()
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
        if self._producer is not None:
            self._producer.close()
            self._producer = None
        for table in self.tables.values():
            table.close()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
