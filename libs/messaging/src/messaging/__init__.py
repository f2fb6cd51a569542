"""Event plumbing: transactional outbox, relay, idempotent consumer, Kafka and in-process transports."""
