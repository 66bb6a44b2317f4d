"""MQTT ingestion: topic scheme (``parse``) and the acknowledging worker (``worker``)."""
