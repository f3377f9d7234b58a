"""One stream in memory for the pure domain tests: decide commands as the platform does
(shared.chassis.commands), keep the events, fold them for the state."""
from shared.chassis.commands import decide_all, fold


class Stream:
    def __init__(self, decider):
        self.decider, self.events = decider, []

    @property
    def state(self):
        return fold(self.decider, self.events)

    def do(self, *commands):
        new, _state = decide_all(self.decider, self.state, list(commands))
        self.events += new
        return new
