"""The distributed ingest log (NATS JetStream) between the protocol front ends and a pool of
stateless writers (docs/ingestion.md, "Through the log"; docs/deployment.md).

* :mod:`~kilnwatch.ingest.log.codec`: deliveries as messages (JSON), their id and subject;
* :mod:`~kilnwatch.ingest.log.stream`: the stream and the writers' consumer, connecting;
* :mod:`~kilnwatch.ingest.log.publisher`: :class:`LogPublisher`, what a front end publishes
  with (returns once JetStream stored the messages);
* :mod:`~kilnwatch.ingest.log.writer`: :class:`LogWriter`, the writer process's loop (fetch,
  store through the pipeline, commit, acknowledge).
"""
