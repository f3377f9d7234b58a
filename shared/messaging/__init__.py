"""Getting recorded events to other services: the relay (ledger -> RabbitMQ) and
subscriptions (RabbitMQ doorbell -> read the ledger -> apply exactly once in effect)."""
