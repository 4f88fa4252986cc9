"""Structured logs (structlog) with one request id per request."""

from __future__ import annotations

import logging
import sys
import uuid

import structlog
from flask import Flask, g, request


def configure_logging(json_logs: bool) -> None:
    renderer = (
        structlog.processors.JSONRenderer()
        if json_logs
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            renderer,
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")


def init_request_id(app: Flask) -> None:
    @app.before_request
    def _bind_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        g.request_id = rid
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=rid, path=request.path)

    @app.after_request
    def _send_request_id(response):  # type: ignore[no-untyped-def]
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
        return response


def current_request_id() -> str | None:
    try:
        return g.get("request_id")
    except RuntimeError:
        return None
