"""MQTT topic scheme (pure): ``<prefix>/<gateway_code>/readings``, default prefix
``kilnwatch/v1``, subscribed as a shared subscription ``$share/<group>/<prefix>/+/readings``."""

from __future__ import annotations

DEFAULT_PREFIX = "kilnwatch/v1"
DEFAULT_GROUP = "kilnwatch"
READINGS_LEAF = "readings"


def readings_topic(gateway_code: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The topic a gateway publishes its readings to."""
    return f"{prefix}/{gateway_code}/{READINGS_LEAF}"


def shared_filter(group: str = DEFAULT_GROUP, prefix: str = DEFAULT_PREFIX) -> str:
    """The shared-subscription filter the workers of one group subscribe to."""
    return f"$share/{group}/{prefix}/+/{READINGS_LEAF}"


def gateway_of(topic: str, prefix: str = DEFAULT_PREFIX) -> str | None:
    """The gateway code of a readings topic, or None when the topic does not fit."""
    head = prefix + "/"
    tail = "/" + READINGS_LEAF
    if not topic.startswith(head) or not topic.endswith(tail):
        return None
    code = topic[len(head) : -len(tail)]
    return code if code and "/" not in code else None
