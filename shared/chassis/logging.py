"""Structured logging: one JSON object per line, with the correlation id of the request.

configure_logging() routes the standard library's logging (nameko, kombu, ours)
through structlog. The Log dependency gives each worker a logger already bound to
service, entrypoint, correlation id and call id, so every line of one request can be
found together.
"""
import logging
import os
import sys

import structlog
from nameko.extensions import DependencyProvider

def _add_process(logger, method, event):
    """Which platform process wrote the line (`plpbk run` sets PLPBK_PROCESS)."""
    if os.environ.get("PLPBK_PROCESS"):
        event.setdefault("process", os.environ["PLPBK_PROCESS"])
    return event


_SHARED = [structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
           structlog.processors.TimeStamper(fmt="iso", utc=True), _add_process]


def _configure_structlog():
    structlog.configure(
        processors=_SHARED + [structlog.processors.format_exc_info,
                              structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger, cache_logger_on_first_use=True)


def json_formatter(json=True):
    """A logging.Formatter rendering both structlog and standard records as JSON lines.

    nameko's config.yml names it in LOGGING (dictConfig calls this factory).
    """
    _configure_structlog()
    renderer = (structlog.processors.JSONRenderer() if json
                else structlog.dev.ConsoleRenderer(colors=False))
    return structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer],
        foreign_pre_chain=_SHARED)


def configure_logging(level="INFO", json=True, stream=None):
    """For processes not started by `nameko run` (CLI, benchmarks)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(json_formatter(json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class Log(DependencyProvider):
    """self.log.info("village registered", code=...) -> JSON line with request context."""

    def get_dependency(self, worker_ctx):
        data = worker_ctx.context_data
        return structlog.get_logger("plpbk").bind(
            service=self.container.service_name,
            entrypoint=worker_ctx.entrypoint.method_name,
            correlation_id=data.get("correlation_id") or worker_ctx.origin_call_id,
            call_id=worker_ctx.call_id)
