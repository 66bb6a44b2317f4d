"""Forwarding to other platforms (接入现有监测系统): this platform as an HJ 212 data logger.

Targets (:mod:`.targets`), the durable per-target queue (:mod:`.queue`), frames built with the
project's encoder (:mod:`.frames`), one TCP connection per target (:mod:`.uplink`) and the
worker loop (:mod:`.worker`). docs/collection.md describes the whole.
"""
