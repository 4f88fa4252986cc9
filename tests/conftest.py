"""Test fixtures (warehouse style): one schema per test session, each test in a rolled-back transaction.

The database comes from GXM_TEST_DATABASE_URL (PostgreSQL in CI), else a SQLite file in a temp dir.
Under pytest-xdist each worker gets its own database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from gxmachinery import create_app
from gxmachinery.extensions import db
from gxmachinery.i18n import compile_catalogs


def _worker_suffix() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _test_database_url(tmp_dir: Path) -> str:
    url = os.environ.get("GXM_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_dir / f'test-{_worker_suffix()}.sqlite3'}"
    parsed = make_url(url)
    name = f"{parsed.database}_{_worker_suffix()}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


TEST_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "SECRET_KEY": "test-secret",
    "SERVER_NAME": "localhost",
}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _test_database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    compile_catalogs()
    upload_dir = tmp_path_factory.mktemp("uploads")
    application = create_app(
        dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=database_url, UPLOAD_DIR=str(upload_dir))
    )
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def db_session(request: pytest.FixtureRequest) -> Iterator[object]:
    """Bind db.session to one outer transaction per test; commits become savepoints, all rolled back."""
    if "app" not in request.fixturenames and not _needs_db(request):
        yield None
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        )
        db.session = session
        try:
            yield session
        finally:
            session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


def _needs_db(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("nodb") is None and any(
        name in request.fixturenames for name in ("client", "session", "api")
    )


@pytest.fixture
def session(app):  # type: ignore[no-untyped-def]
    return db.session


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(autouse=True)
def _app_context(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" in request.fixturenames:
        with request.getfixturevalue("app").test_request_context():
            yield
    else:
        yield


class ApiClient:
    """Test client that sends a Bearer token and JSON."""

    def __init__(self, client, secret: str | None) -> None:  # type: ignore[no-untyped-def]
        self._client = client
        self.secret = secret

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if self.secret:
            out.setdefault("Authorization", f"Bearer {self.secret}")
        return out

    def get(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self._client.get(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, url: str, json=None, **kw):  # type: ignore[no-untyped-def]
        return self._client.post(url, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, url: str, json=None, **kw):  # type: ignore[no-untyped-def]
        return self._client.put(url, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, url: str, json=None, **kw):  # type: ignore[no-untyped-def]
        return self._client.patch(url, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self._client.delete(url, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def api(client):  # type: ignore[no-untyped-def]
    """``api(user)`` -> an ApiClient authenticated as ``user`` (a fresh token); ``api(None)`` anonymous."""
    from gxmachinery.accounts.services import issue_token

    def make(user=None) -> ApiClient:  # type: ignore[no-untyped-def]
        secret = None
        if user is not None:
            _token, secret = issue_token(user, "test")
            db.session.flush()
        return ApiClient(client, secret)

    return make


@pytest.fixture
def login(client):  # type: ignore[no-untyped-def]
    """``login(user)`` signs the test client in through the session (for page tests)."""

    def do(user):  # type: ignore[no-untyped-def]
        with client.session_transaction() as sess:
            sess["_user_id"] = str(user.id)
            sess["_fresh"] = True
        return client

    return do
