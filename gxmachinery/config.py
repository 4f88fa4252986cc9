"""Settings from the environment, with safe defaults for development (zou-style)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me"
INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


class ConfigError(RuntimeError):
    """The environment asks for something the service refuses to run with."""


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'gxmachinery.sqlite3'}"


def normalise_database_url(url: str) -> str:
    """psycopg 3 must be named explicitly (LIBRARIES.md); accept the common short forms."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(overrides: dict | None = None) -> dict:
    env = os.environ.get("GXM_ENV", "development")
    config: dict = {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            os.environ.get("DATABASE_URL", default_database_url())
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Uploads (test reports, CSV/XLSX logs) are bounded; larger bodies get 413.
        "MAX_CONTENT_LENGTH": int(os.environ.get("GXM_MAX_CONTENT_LENGTH", 64 * 1024 * 1024)),
        "MAX_DOCUMENT_BYTES": int(os.environ.get("GXM_MAX_DOCUMENT_BYTES", 10 * 1024 * 1024)),
        "UPLOAD_DIR": os.environ.get("GXM_UPLOAD_DIR", str(INSTANCE_DIR / "uploads")),
        "API_TITLE": "GX Machinery API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": None,
        "API_SPEC_OPTIONS": {
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
            },
            "security": [{"bearerAuth": []}],
        },
        "BABEL_DEFAULT_LOCALE": "zh_Hant_TW",
        "LANGUAGES": {"zh_Hant_TW": "中文", "en": "English"},
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("GXM_LOGIN_RATE_LIMIT", "10 per minute"),
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("GXM_SECURE_COOKIES", env == "production"),
        "FORCE_HTTPS": _bool("GXM_FORCE_HTTPS", False),
        "LOG_JSON": _bool("GXM_LOG_JSON", env == "production"),
        "PAGE_SIZE": 25,
    }
    if overrides:
        config.update(overrides)
    if config["ENV_NAME"] == "production" and config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise ConfigError("SECRET_KEY must be set in production (GXM_ENV=production).")
    return config
