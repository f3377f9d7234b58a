"""Is any process taking a service's calls? nameko serves a service's RPCs from the queue
rpc-<service>; a service that stopped keeps its durable queue, so only the number of
consumers says whether anyone is there."""
import amqp


def rpc_consumers(connection, service) -> int | None:
    """Processes consuming the service's RPC queue over a kombu connection; None when the
    queue does not exist (the service never ran against this RabbitMQ)."""
    channel = connection.channel()   # a refused passive declare closes its channel
    try:
        return channel.queue_declare(f"rpc-{service}", passive=True)[2]
    except amqp.exceptions.NotFound:
        return None
    finally:
        if channel.is_open:
            channel.close()
