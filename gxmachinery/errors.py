"""Domain exceptions and the one place they become HTTP errors.

API requests get ``{code, status, message, errors}`` (flask-smorest's shape); browsers get an HTML page.
No request ever shows a traceback to the client.
"""

from __future__ import annotations

from typing import Any

import structlog
from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

log = structlog.get_logger(__name__)


class DomainError(Exception):
    """A business rule refused an operation. Subclasses choose the HTTP status."""

    status_code = 400

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(DomainError):
    """Input breaks a rule; ``errors`` maps each field (or row/column) to its messages."""

    status_code = 422

    @classmethod
    def for_field(cls, field: str, message: str) -> InvalidInput:
        return cls(message, {field: [message]})


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    """State change out of order (e.g. approve a draft): nothing was changed."""

    status_code = 409


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"
    ]


def error_response(code: int, message: str, errors: dict[str, Any] | None = None, headers=None):  # type: ignore[no-untyped-def]
    status = HTTP_STATUS_CODES.get(code, "Error")
    if wants_json():
        payload: dict[str, Any] = {"code": code, "status": status, "message": message}
        payload["errors"] = errors or {}
        return jsonify(payload), code, headers or {}
    page = render_template("errors/error.html", code=code, status=status, message=message, errors=errors or {})
    return page, code, headers or {}


def _handle_http(error: HTTPException):  # type: ignore[no-untyped-def]
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages") or {}
    # webargs nests errors by location ({"json": {...}}); keep the field names on top
    if isinstance(errors, dict) and set(errors) <= {"json", "query", "form", "files", "headers"}:
        flat: dict[str, Any] = {}
        for part in errors.values():
            if isinstance(part, dict):
                flat.update(part)
        errors = flat or errors
    message = data.get("message") or error.description or error.name
    if error.code == 422 and not data.get("message"):
        message = "The request has invalid fields: " + ", ".join(sorted(map(str, errors)))
    headers = dict(data.get("headers") or {})
    valid_methods = getattr(error, "valid_methods", None)
    if error.code == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    return error_response(error.code or 500, str(message), errors, headers)


def _handle_domain(error: DomainError):  # type: ignore[no-untyped-def]
    return error_response(error.status_code, error.message, error.errors)


def _handle_unexpected(error: Exception):  # type: ignore[no-untyped-def]
    if isinstance(error, HTTPException):
        return _handle_http(error)
    log.exception("unhandled_error", error=repr(error))
    return error_response(500, InternalServerError.description)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(DomainError, _handle_domain)
    app.register_error_handler(Exception, _handle_unexpected)
