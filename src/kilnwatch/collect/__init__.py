"""Edge collector for Modbus TCP meters (``kilnwatch collect modbus --config FILE``).

Runs on a plant's edge box: polls registers (:mod:`.modbus`), decodes and scales them
(:mod:`.registers`), checks counters with the platform's roll-over rule (:mod:`.checks`),
keeps every reading in a durable on-disk buffer (:mod:`.buffer`) and sends it to the platform
over HTTP or MQTT (:mod:`.senders`), deleting it only once the platform acknowledged.
It needs no database server and imports nothing of the platform's storage layer.
"""
