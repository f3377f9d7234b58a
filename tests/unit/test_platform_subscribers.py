"""What a service declares on its Platform is checked when its class is defined: each
subscriber's name keys its tracked position ("<service>.<name>:<ledger>"), so two with
one name (a projection copied and not renamed) or none shared one position, and one of
them skipped every event the other applied, without a word."""
import pytest

from shared.chassis.platform import Platform
from shared.chassis.subscribers import Projection, Reaction, handles
from shared.ledger import NewEvent, open_ledger
from shared.views import open_view_store


class Board(Projection):
    name = "board"


class CopiedBoard(Projection):
    name = "board"


class Unnamed(Projection):
    pass


def test_two_subscribers_of_one_name_are_refused_naming_them():
    with pytest.raises(TypeError, match="Board and CopiedBoard.*'board'"):
        Platform(subscribers=[Board, CopiedBoard])


def test_a_subscriber_without_a_name_is_refused():
    with pytest.raises(TypeError, match="Unnamed has no name"):
        Platform(subscribers=[Unnamed])


def test_a_subscriber_must_be_a_projection_or_reaction_class():
    with pytest.raises(TypeError, match="Projection or Reaction class"):
        Platform(subscribers=[Board, "cycle_board"])   # a name, not the class


def test_the_services_declare_subscribers_the_platform_takes():
    from services import SERVICES
    import importlib
    for target, _port in SERVICES.values():
        module, _, _cls = target.partition(":")
        importlib.import_module(module)   # each Platform(...) is checked as it is made


def test_a_handler_returning_something_else_than_react_says_what_to_return(tmp_path):
    class Bare(Reaction):
        name = "bare"
        source = "producer"

        @handles("Listed")
        def listed(self, record):
            return {"tick": record.position}   # the command, not React(decider, stream, it)

    from types import SimpleNamespace

    from shared.chassis.platform import ServiceContext
    producer = open_ledger(f"sqlite:///{tmp_path}", "producer")
    producer.append("list-1", 0, [NewEvent("Listed", {})])
    consumer = open_ledger(f"sqlite:///{tmp_path}", "consumer")
    platform = SimpleNamespace(service_name="consumer", ledger=consumer,
                               views=open_view_store("memory://", "consumer"))
    reaction = Bare(ServiceContext(platform))
    reaction.handlers()
    with pytest.raises(TypeError, match=r"bare returned \{'tick': 1\}: return React\("):
        reaction.handle_batch(producer.read(0))
    assert list(consumer.iter_records()) == []
