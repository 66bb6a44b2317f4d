"""MQTT topic scheme (pure): ``<prefix>/<gateway_code>/readings``, default prefix
``kilnwatch/v1``, subscribed as a shared subscription ``$share/<group>/<prefix>/+/readings``;
workers' presence on ``<prefix>/_workers/<group>/<client_id>``."""

from __future__ import annotations

DEFAULT_PREFIX = "kilnwatch/v1"
DEFAULT_GROUP = "kilnwatch"
READINGS_LEAF = "readings"
PRESENCE_LEVEL = "_workers"


def readings_topic(gateway_code: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The topic a gateway publishes its readings to."""
    return f"{prefix}/{gateway_code}/{READINGS_LEAF}"


def shared_filter(group: str = DEFAULT_GROUP, prefix: str = DEFAULT_PREFIX) -> str:
    """The shared-subscription filter the workers of one group subscribe to."""
    return f"$share/{group}/{prefix}/+/{READINGS_LEAF}"


def presence_topic(group: str, client_id: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The retained topic where a worker of ``group`` says it is online (its Will says
    ``lost``); ``client_id="+"`` gives the filter over the whole group. It has two more levels
    than a readings topic, so ``<prefix>/+/readings`` never matches it."""
    return f"{prefix}/{PRESENCE_LEVEL}/{group}/{client_id}"


def gateway_of(topic: str, prefix: str = DEFAULT_PREFIX) -> str | None:
    """The gateway code of a readings topic, or None when the topic does not fit."""
    head = prefix + "/"
    tail = "/" + READINGS_LEAF
    if not topic.startswith(head) or not topic.endswith(tail):
        return None
    code = topic[len(head) : -len(tail)]
    return code if code and "/" not in code else None
