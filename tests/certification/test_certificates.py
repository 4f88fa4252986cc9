"""Certificate lifecycle: renewal, type-change notices, suspension/revocation with effective dates
(never retroactive), automatic expiry computed on read, the certified_intervals contract."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from gxmachinery.certification import services
from gxmachinery.certification.models import CertificateStatus
from gxmachinery.certification.services import _intervals_from_changes
from tests.certification.conftest import DIESEL, ELECTRIC, HYBRID

BASE = "/api/v1/certification"


def _cert(session, number):  # type: ignore[no-untyped-def]
    return services.get_certificate(number)


def test_suspend_reinstate_revoke_with_effective_dates(api, certifier, maker, certify, session):
    _app, cert = certify(DIESEL, issued_on="2026-01-10")
    c = api(certifier)
    res = c.post(
        f"{BASE}/certificates/{cert['id']}/suspend", json={"effective_from": "2026-03-01", "reason": "audit"}
    )
    assert res.status_code == 200, res.get_json()
    res = c.post(
        f"{BASE}/certificates/{cert['id']}/reinstate",
        json={"effective_from": "2026-04-01", "reason": "fixed"},
    )
    assert res.status_code == 200
    # may not precede the last change
    back = c.post(
        f"{BASE}/certificates/{cert['id']}/revoke", json={"effective_from": "2026-02-01", "reason": "x"}
    )
    assert back.status_code == 422 and "effective_from" in back.get_json()["errors"]
    res = c.post(
        f"{BASE}/certificates/{cert['id']}/revoke", json={"effective_from": "2026-06-01", "reason": "fraud"}
    )
    assert res.status_code == 200
    certificate = _cert(session, cert["number"])
    intervals = services.certified_intervals([certificate.id])[certificate.id]
    assert intervals == [(date(2026, 1, 10), date(2026, 3, 1)), (date(2026, 4, 1), date(2026, 6, 1))]
    # nothing before the revocation date changed
    assert services.certificate_active_on(certificate, date(2026, 5, 31))
    assert not services.certificate_active_on(certificate, date(2026, 6, 1))
    assert not services.certificate_active_on(certificate, date(2026, 3, 15))
    # revoke again -> 409
    again = c.post(
        f"{BASE}/certificates/{cert['id']}/revoke", json={"effective_from": "2026-07-01", "reason": "x"}
    )
    assert again.status_code == 409
    # the maker cannot suspend
    assert (
        api(maker)
        .post(
            f"{BASE}/certificates/{cert['id']}/suspend", json={"effective_from": "2026-07-01", "reason": "x"}
        )
        .status_code
        == 403
    )


def test_expiry_computed_on_read_and_by_job(api, certifier, certify, session):
    _app, cert = certify(DIESEL, issued_on="2020-01-10")  # valid until 2023-01-10
    certificate = _cert(session, cert["number"])
    assert certificate.valid_until == date(2023, 1, 10)
    # the job has not run: reads still say expired
    assert services.certificate_status_on(certificate, date.today()) == CertificateStatus.expired
    assert api(None).get("/api/v1/register/certificates?status=expired").get_json()["total"] == 1
    assert api(None).get("/api/v1/register/certificates?status=active").get_json()["total"] == 0
    assert services.certified_intervals([certificate.id])[certificate.id] == [
        (date(2020, 1, 10), date(2023, 1, 10))
    ]
    assert services.expire_certificates(date.today()) == 1
    assert services.expire_certificates(date.today()) == 0  # idempotent
    assert certificate.status == CertificateStatus.expired
    # revoking an expired certificate -> 409
    res = api(certifier).post(
        f"{BASE}/certificates/{cert['id']}/revoke",
        json={"effective_from": date.today().isoformat(), "reason": "x"},
    )
    assert res.status_code == 409


def test_renewal_of_active_and_expired(api, maker, certify, session):
    _app, cert = certify(DIESEL, issued_on="2025-06-01")  # valid until 2028-06-01
    m = api(maker)
    res = m.post(
        f"{BASE}/certificates/{cert['id']}/renew", json={"renewed_on": "2028-05-01", "reason": "renewal"}
    )
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["valid_until"] == "2031-06-01"  # 3 years from the old end: no gap
    _app2, old = certify(HYBRID, issued_on="2020-01-10")  # expired 2023-01-10
    res = m.post(f"{BASE}/certificates/{old['id']}/renew", json={"renewed_on": "2024-02-01"})
    assert res.get_json()["valid_until"] == "2027-02-01"
    certificate = _cert(session, old["number"])
    # the gap between expiry and renewal stays uncertified
    assert services.certified_intervals([certificate.id])[certificate.id] == [
        (date(2020, 1, 10), date(2023, 1, 10)),
        (date(2024, 2, 1), date(2027, 2, 1)),
    ]


def test_type_change_notices(api, maker, other_maker, certify, session):
    _app, cert = certify(DIESEL)
    m = api(maker)
    minor = m.post(
        f"{BASE}/certificates/{cert['id']}/notices",
        json={"kind": "catalogue_name", "description": "new name", "changes": {"catalogue_names": ["PC210"]}},
    )
    assert minor.status_code == 201 and minor.get_json()["outcome"] == "accepted"
    drive = m.post(
        f"{BASE}/certificates/{cert['id']}/notices",
        json={"kind": "drive", "description": "now hybrid", "changes": {"drive": "hybrid"}},
    )
    assert drive.get_json()["outcome"] == "rejected"
    assert "new application" in drive.get_json()["outcome_reason"]
    detail = m.get(f"{BASE}/certificates/{cert['id']}").get_json()
    assert detail["status"] == "active" and detail["machine_model"]["drive"] == "diesel"
    assert "PC210" in detail["machine_model"]["catalogue_names"]
    assert (
        api(other_maker)
        .post(f"{BASE}/certificates/{cert['id']}/notices", json={"kind": "minor", "description": "x"})
        .status_code
        == 404
    )


def test_certificate_numbers_increment(certify):
    _a, first = certify(DIESEL, issued_on="2026-02-01")
    _b, second = certify(ELECTRIC, issued_on="2026-03-01")
    assert (first["number"], second["number"]) == ("GX-2026-000001", "GX-2026-000002")


def test_register_export_formats(api, certify):
    certify(DIESEL)
    certify(ELECTRIC)
    public = api(None)
    csv = public.get("/api/v1/register/export?format=csv")
    assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in csv.headers["Content-Disposition"]
    xlsx = public.get("/api/v1/register/export?format=xlsx")
    assert xlsx.data[:2] == b"PK"
    data = public.get("/api/v1/register/export?format=json").get_json()
    assert {row["drive"] for row in data} == {"diesel", "battery_electric"}


def test_competition_designatable_with_three_makers(api, certify, maker, other_maker):
    from tests.factories import user_of

    third = user_of("maker")
    certify(DIESEL, maker_user=maker)
    certify(HYBRID, maker_user=other_maker)
    rows = api(None).get("/api/v1/register/competition").get_json()
    excavator = [r for r in rows if r["category"] == "hydraulic_excavator" and r["makers"] > 0]
    assert excavator[0]["makers"] == 2 and excavator[0]["designatable"] is False
    certify(dict(DIESEL, type_designation="ZX200"), maker_user=third)
    rows = api(None).get("/api/v1/register/competition").get_json()
    excavator = [r for r in rows if r["category"] == "hydraulic_excavator" and r["makers"] > 0]
    assert excavator[0]["makers"] == 3 and excavator[0]["designatable"] is True


def test_baseline_review_admin(api, admin, maker, certify):
    certify(DIESEL)  # 12.8
    certify(HYBRID)  # 15.55
    assert api(maker).get(f"{BASE}/baseline-review").status_code == 403
    rows = api(admin).get(f"{BASE}/baseline-review").get_json()
    top = [r for r in rows if r["proposal"] == "top_runner"][0]
    assert top["value"] == 12.8 and top["models_passing"] == 1 and top["n_models"] == 2
    p50 = [r for r in rows if r["proposal"] == "p50"][0]
    assert abs(p50["value"] - (12.8 + 15.55) / 2) < 1e-9 and p50["models_passing"] == 1


# ---- pure: interval construction -------------------------------------------------------------


def test_intervals_same_day_last_change_wins():
    changes = [
        (date(2026, 1, 1), 1, CertificateStatus.active),
        (date(2026, 2, 1), 2, CertificateStatus.suspended),
        (date(2026, 2, 1), 3, CertificateStatus.active),
    ]
    assert _intervals_from_changes(changes, date(2029, 1, 1)) == [(date(2026, 1, 1), date(2029, 1, 1))]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2000), st.sampled_from(list(CertificateStatus))),
        min_size=1,
        max_size=8,
    ),
    st.integers(1, 2500),
)
def test_intervals_properties(raw, until_offset):
    base = date(2020, 1, 1)
    changes = [(date.fromordinal(base.toordinal() + d), i, s) for i, (d, s) in enumerate(raw)]
    valid_until = date.fromordinal(base.toordinal() + until_offset)
    intervals = _intervals_from_changes(changes, valid_until)
    # disjoint, ordered, non-empty, never past valid_until
    for start, end in intervals:
        assert end is not None and start < end <= valid_until
    for (_s1, e1), (s2, _e2) in zip(intervals, intervals[1:], strict=False):
        assert e1 <= s2
    # order of input rows does not matter
    assert _intervals_from_changes(list(reversed(changes)), valid_until) == intervals
