"""Foundation: login, tokens, roles, audit, error shapes, health, language, security headers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gxmachinery import create_app
from gxmachinery.audit.models import AuditEvent
from gxmachinery.config import ConfigError
from gxmachinery.extensions import db
from tests.conftest import TEST_CONFIG
from tests.factories import TEST_PASSWORD, user_of


def test_refuses_default_secret_in_production(monkeypatch):
    monkeypatch.setenv("GXM_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_health_reports_database(client):
    res = client.get("/api/v1/health")
    assert res.status_code == 200
    body = res.get_json()
    assert body["database"] == "ok"


def test_missing_and_wrong_token_give_401_error_shape(api):
    for client in (api(None), ):
        res = client.get("/api/v1/me")
        assert res.status_code == 401
        assert set(res.get_json()) == {"code", "status", "message", "errors"}
    res = api(None).get("/api/v1/me", headers={"Authorization": "Bearer gxm_nope"})
    assert res.status_code == 401 and res.get_json()["code"] == 401


def test_token_auth_and_revocation(api, session):
    user = user_of("contractor")
    client = api(user)
    res = client.get("/api/v1/me")
    assert res.status_code == 200
    assert res.get_json()["email"] == user.email
    token_id = client.get("/api/v1/tokens").get_json()[0]["id"]
    assert client.post(f"/api/v1/tokens/{token_id}/revoke", json={"reason": "lost laptop"}).status_code == 200
    assert client.get("/api/v1/me").status_code == 401
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "token.revoke"))
    assert event is not None and event.reason == "lost laptop" and event.actor_user_id == user.id


def test_token_stored_hashed(api, session):
    from gxmachinery.accounts.models import ApiToken

    client = api(user_of("maker"))
    secret = client.secret
    stored = session.scalars(select(ApiToken)).all()
    assert all(secret not in (t.token_hash, t.prefix) for t in stored)


def test_roles_enforced(api):
    contractor = api(user_of("contractor"))
    res = contractor.get("/api/v1/organisations")
    assert res.status_code == 403
    assert res.get_json()["status"] == "Forbidden"
    admin = api(user_of("admin"))
    assert admin.get("/api/v1/organisations").status_code == 200


def test_admin_creates_user_validation_names_fields(api):
    admin = api(user_of("admin"))
    org = admin.post("/api/v1/organisations", json={"name": "Maker X", "kind": "maker"}).get_json()
    res = admin.post(
        "/api/v1/users",
        json={"organisation_id": org["id"], "email": "not-an-email", "name": "x", "roles": ["maker"]},
    )
    assert res.status_code == 422
    assert "email" in res.get_json()["errors"]
    res = admin.post(
        "/api/v1/users",
        json={"organisation_id": org["id"], "email": "a@b.test", "name": "x", "roles": ["certifier"]},
    )
    assert res.status_code == 422
    assert "roles" in res.get_json()["errors"]


def test_malformed_json_and_unknown_route_and_method(api):
    admin = api(user_of("admin"))
    res = admin.post("/api/v1/organisations", data="{nope", headers={"Content-Type": "application/json"})
    assert res.status_code in (400, 422)
    assert set(res.get_json()) == {"code", "status", "message", "errors"}
    assert admin.get("/api/v1/nothing-here").get_json()["code"] == 404
    res = admin.delete("/api/v1/me")
    assert res.status_code == 405 and res.get_json()["code"] == 405


def test_oversized_body_413(app, api):
    admin = api(user_of("admin"))
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        res = admin.post("/api/v1/organisations", data="x" * 5000, headers={"Content-Type": "application/json"})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024
    assert res.status_code == 413
    assert res.get_json()["code"] == 413


def test_unexpected_error_is_500_without_traceback(database_url):
    app = create_app(dict(TEST_CONFIG, SQLALCHEMY_DATABASE_URI=database_url))

    @app.route("/api/v1/_boom")
    def boom():
        raise RuntimeError("secret internals")

    app.config["TESTING"] = False  # let the error handler run as in production
    app.config["PROPAGATE_EXCEPTIONS"] = False
    res = app.test_client().get("/api/v1/_boom")
    assert res.status_code == 500
    body = res.get_json()
    assert body["code"] == 500 and "secret internals" not in res.get_data(as_text=True)


def test_login_page_and_session(client, session):
    user = user_of("certifier")
    res = client.post("/login", data={"email": user.email, "password": "wrong"})
    assert res.status_code == 422
    assert "E-mail or password is wrong" in res.get_data(as_text=True) or "錯誤" in res.get_data(as_text=True)
    res = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert res.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert user.name in page
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "user.login")) is not None


def test_session_cookie_does_not_authenticate_api(client, login):
    user = user_of("admin")
    login(user)
    assert client.get("/api/v1/me").status_code == 401


def test_csrf_required_on_pages(database_url):
    app = create_app(dict(TEST_CONFIG, WTF_CSRF_ENABLED=True, SQLALCHEMY_DATABASE_URI=database_url))
    res = app.test_client().post("/login", data={"email": "a@b.c", "password": "x"})
    assert res.status_code == 400


def test_login_rate_limited(database_url):
    app = create_app(dict(TEST_CONFIG, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute",
                          SQLALCHEMY_DATABASE_URI=database_url))
    client = app.test_client()
    codes = [client.post("/login", data={"email": "a@b.test", "password": "x"}).status_code for _ in range(3)]
    assert codes[-1] == 429


def test_language_switch(client):
    zh = client.get("/").get_data(as_text=True)
    assert "登入" in zh
    client.get("/lang/en")
    en = client.get("/").get_data(as_text=True)
    assert "Sign in" in en and "登入" not in en


def test_html_errors_for_browsers(client):
    res = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert res.status_code == 404
    assert "<html" in res.get_data(as_text=True)


def test_security_headers_and_request_id(client):
    res = client.get("/", headers={"X-Request-ID": "abc123"})
    assert "default-src 'self'" in res.headers["Content-Security-Policy"]
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert res.headers["X-Request-ID"] == "abc123"


def test_audit_events_append_only_and_admin_readable(api, session):
    admin_user = user_of("admin")
    admin = api(admin_user)
    events = admin.get("/api/v1/audit-events?action=token.").get_json()
    assert events["total"] >= 1
    event = session.scalars(select(AuditEvent)).first()
    event.reason = "tampered"
    with pytest.raises(RuntimeError):
        session.flush()
    session.rollback()
    assert api(user_of("maker")).get("/api/v1/audit-events").status_code == 403


def test_audit_page_for_admin_only(client, login):
    login(user_of("maker"))
    assert client.get("/admin/audit").status_code == 403
    login(user_of("admin"))
    assert client.get("/admin/audit").status_code == 200


def test_openapi_and_docs(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/health" in spec["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_db_rows_isolated_between_tests(session):
    from gxmachinery.accounts.models import Organisation

    assert session.scalar(select(db.func.count()).select_from(Organisation)) == 0
