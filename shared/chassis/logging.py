"""Structured logging: one JSON object per line, with the correlation id of the request.

json_formatter(), which config.yml's LOGGING names, routes the standard library's
logging (nameko, kombu, ours) through structlog. Every line written inside a nameko
worker carries its service, entrypoint, correlation id and call id (the Log dependency
marks the worker), whether it was logged with self.log or with a module's
logging.getLogger, so every line of one request can be found together. The id is read
when the line is written: the gateway sets it on the worker once it has read
X-Correlation-Id. Work on one event outside a request (a subscription applying a
record) binds that event's correlation id with structlog.contextvars.bound_contextvars,
which wins over the worker's.
"""
import contextvars
import os
from weakref import WeakKeyDictionary

import structlog
from nameko.extensions import DependencyProvider

# the worker whose greenthread is running (greenlets each have their own context)
_worker = contextvars.ContextVar("plpbk_worker", default=None)


def request_context(worker_ctx):
    """What identifies one request's lines."""
    data = worker_ctx.context_data
    return {"service": worker_ctx.service_name,
            "entrypoint": worker_ctx.entrypoint.method_name,
            # else the first call of the chain: this worker's own when nothing called it
            # (an HTTP request, a timer, a relayed event)
            "correlation_id": data.get("correlation_id") or worker_ctx.call_id_stack[0],
            "call_id": worker_ctx.call_id}


def _add_request(logger, method, event):
    worker_ctx = _worker.get()
    if worker_ctx is not None:
        for key, value in request_context(worker_ctx).items():
            event.setdefault(key, value)
    return event


def _add_process(logger, method, event):
    """Which platform process wrote the line (`plpbk run` sets PLPBK_PROCESS)."""
    if os.environ.get("PLPBK_PROCESS"):
        event.setdefault("process", os.environ["PLPBK_PROCESS"])
    return event


_SHARED = [structlog.contextvars.merge_contextvars, _add_request,
           structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
           structlog.processors.TimeStamper(fmt="iso", utc=True), _add_process]


def _configure_structlog():
    structlog.configure(
        processors=_SHARED + [structlog.processors.format_exc_info,
                              structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger, cache_logger_on_first_use=True)


def json_formatter():
    """A logging.Formatter rendering both structlog and standard records as JSON lines.

    nameko's config.yml names it in LOGGING (dictConfig calls this factory).
    """
    _configure_structlog()
    return structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer()],
        foreign_pre_chain=_SHARED)


class Log(DependencyProvider):
    """self.log.info("village registered", code=...) -> JSON line with request context;
    marks each worker so that every other line it logs has that context too."""

    def __init__(self):
        self._marks = WeakKeyDictionary()

    def worker_setup(self, worker_ctx):
        self._marks[worker_ctx] = _worker.set(worker_ctx)

    def worker_teardown(self, worker_ctx):
        mark = self._marks.pop(worker_ctx, None)
        if mark is not None:
            _worker.reset(mark)

    def get_dependency(self, worker_ctx):
        return structlog.get_logger("plpbk")   # the worker's mark gives the context
