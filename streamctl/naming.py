"""Names of derived things: each comes from exactly one function here."""

from __future__ import annotations


def repartition_topic_name(app_id: str, source_topic: str, name: str) -> str:
    """Internal topic that ``stream.group_by(..., name=name)`` repartitions through."""
    return f"{app_id}-{source_topic}-{name}-repartition"


def is_repartition_topic(app_id: str, topic: str) -> bool:
    """Whether ``topic`` is one of ``app_id``'s repartition topics (see above)."""
    return topic.startswith(f"{app_id}-") and topic.endswith("-repartition")


def agent_topic_name(app_id: str, agent_name: str) -> str:
    """Topic of an agent declared without one (Faust gives such agents their own topic)."""
    return f"{app_id}-{agent_name}"


def consumer_group(app_id: str) -> str:
    """The consumer group an app's workers share: the app id, as in Faust."""
    return app_id


def is_derived_topic(app_id: str, topic: str) -> bool:
    """Whether ``topic`` is named after app ``app_id`` (its changelog, repartition and agent
    topics are): a running worker of the app may read or write it."""
    return topic.startswith(f"{app_id}-")
