"""Operator commands calling services over the real RabbitMQ (shared.cli.rpc)."""
import eventlet
import pytest
from nameko.rpc import rpc

from shared.cli.common import EXIT_UNREACHABLE
from shared.cli.rpc import service_proxy


class SlowService:
    name = "slow_for_cli"

    @rpc
    def answer(self):
        eventlet.sleep(3)
        return "late"


def refusal(rabbit_config, service, timeout, capsys):
    """What an operator's command calling service.answer() says as it stops (exit 3)."""
    with pytest.raises(SystemExit) as stopped:
        with service_proxy(rabbit_config["AMQP_URI"], "operator:test", "ministry", "",
                           timeout=timeout) as cluster:
            getattr(cluster, service).answer()
    assert stopped.value.code == EXIT_UNREACHABLE
    return " ".join(capsys.readouterr().err.split())


def test_a_service_that_does_not_answer_in_time_is_one_line_not_a_traceback(
        container_factory, rabbit_config, capsys):
    container_factory(SlowService, rabbit_config).start()
    message = refusal(rabbit_config, "slow_for_cli", 0.5, capsys)
    assert "no answer within 0.5 s (request cli-" in message
    assert "look before sending it again" in message


def test_a_service_that_no_process_serves_is_named_at_once(rabbit_config, capsys):
    """Its durable queue is there (it ran before) but nobody consumes it: the request
    would wait there for the whole timeout, so nothing is sent."""
    import kombu
    with kombu.Connection(rabbit_config["AMQP_URI"]) as connection:
        connection.channel().queue_declare("rpc-stopped_for_cli", durable=True,
                                           auto_delete=False)
    message = refusal(rabbit_config, "stopped_for_cli", 5, capsys)
    assert "the stopped_for_cli service is not running" in message
    assert "nothing was sent" in message
    with kombu.Connection(rabbit_config["AMQP_URI"]) as connection:
        assert connection.channel().queue_declare(
            "rpc-stopped_for_cli", passive=True)[1] == 0   # no request left waiting
