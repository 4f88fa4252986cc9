"""Scheme dashboard and annual report figures (issue 6).

Two layers, so the arithmetic is testable without a database:

* **pure aggregation functions** (``certified_models_over_time``, ``makers_per_class``,
  ``usage_summary``, ``register_changes``, ``carbon_effect`` …): pandas frames in, frames out,
  no Flask, no session;
* **readers** (``read_*``): one SQL query each, returning the plain frames the aggregations take.

``dashboard_figures`` / ``annual_report`` put both together for the pages and exports.

Numbers: figures are statistics for display, so hours and CO2 are summed as ``float`` (kg, hours)
and rounded only when shown; the per-log values they add up were computed and stored with Decimal
by the registry. Shares and ratios are ``sum(part) / sum(whole)`` over the rows (never a mean of
per-row ratios), so they do not depend on how rows are grouped or ordered.

Confidentiality (public annual report, decided here and documented in the README of issue 6):
the public version shows the register (already public), totals per fiscal year and per agency
(agencies are public bodies), and for tenders only those whose results were published (status
published/awarded) with the winner and whether the carbon criterion changed the winner. It never
shows bid prices, per-contractor or per-project figures (a project's figures are its one
contractor's figures).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import aliased

from gxmachinery.rules import COMPETITION_RULE, CompetitionRule
from scoring.methods import (
    Bidder,
    Criterion,
    EvaluationInputs,
    MethodParams,
    ScoringRuleError,
    evaluate,
)

# ------------------------------------------------------------------------------------------
# Rules as data
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FiscalYearRule:
    """When a fiscal year starts (month, day)."""

    start_month: int
    start_day: int
    source: str


#: Taiwan's government fiscal year is the calendar year.
FISCAL_YEAR = FiscalYearRule(
    start_month=1,
    start_day=1,
    source="預算法 §12: 政府會計年度於每年一月一日開始，至同年十二月三十一日終了 (Taiwan Budget Act art. 12)",
)


@dataclass(frozen=True)
class PublicationRule:
    """Which tenders the public annual report may list, and what it never shows."""

    published_statuses: frozenset[str]
    hidden_columns: frozenset[str]
    source: str


PUBLICATION = PublicationRule(
    published_statuses=frozenset({"published", "awarded"}),
    hidden_columns=frozenset({"contractor", "contractor_id", "project", "project_id", "price"}),
    source=(
        "Japan publishes tender results (入札調書) after award; Taiwan 政府採購法 §61/§62 publish the "
        "award (決標公告). Bid prices of non-winners and per-contractor usage are not published "
        "(issue 6: public version without confidential fields)."
    ),
)

#: Dimensions of the certified-models figure (column of the certificate frame -> figure key).
MODEL_DIMENSIONS = ("category", "size_class", "drive", "grade")
#: Dimensions of the usage figures.
USAGE_DIMENSIONS = ("fiscal_year", "agency", "project", "contractor")
#: Register change kinds reported (issue 6 annual report).
CHANGE_KINDS = ("new", "renewed", "suspended", "revoked", "expired")


def fiscal_year_of(day: date, rule: FiscalYearRule = FISCAL_YEAR) -> int:
    """The fiscal year a date falls in, named by the calendar year it starts in (rule: FISCAL_YEAR)."""
    start = date(day.year, rule.start_month, rule.start_day)
    return day.year if day >= start else day.year - 1


def fiscal_year_bounds(year: int, rule: FiscalYearRule = FISCAL_YEAR) -> tuple[date, date]:
    """First and last day (inclusive) of fiscal ``year`` (rule: FISCAL_YEAR)."""
    start = date(year, rule.start_month, rule.start_day)
    end = date(year + 1, rule.start_month, rule.start_day) - timedelta(days=1)
    return start, end


def snapshot_dates(date_from: date, date_to: date, rule: FiscalYearRule = FISCAL_YEAR) -> list[date]:
    """Points in time for "over time" figures: each fiscal year's last day inside the period, and
    the period's last day."""
    out: list[date] = []
    for year in range(fiscal_year_of(date_from, rule), fiscal_year_of(date_to, rule) + 1):
        _start, end = fiscal_year_bounds(year, rule)
        if date_from <= end < date_to:
            out.append(end)
    out.append(date_to)
    return out


@dataclass(frozen=True)
class DashboardFilters:
    """Period (inclusive days) and optional agency of the dashboard and report."""

    date_from: date
    date_to: date
    agency_id: int | None = None


# ------------------------------------------------------------------------------------------
# Pure aggregation: certification
# ------------------------------------------------------------------------------------------

CERTIFICATE_COLUMNS = (
    "certificate_id",
    "number",
    "machine_model_id",
    "type_designation",
    "maker_id",
    "maker",
    "category",
    "size_class",
    "drive",
    "grade",
    "issued_on",
    "valid_until",
)
INTERVAL_COLUMNS = ("certificate_id", "start", "end")


def active_certificates_on(certificates: pd.DataFrame, intervals: pd.DataFrame, on: date) -> pd.DataFrame:
    """Certificates active on day ``on``: inside one of their half-open [start, end) active
    periods (the certification contract ``certified_intervals``: suspension, revocation and
    expiry count from their effective dates, never before)."""
    if certificates.empty or intervals.empty:
        return certificates.iloc[0:0]
    ends = intervals["end"].where(intervals["end"].notna(), date.max)
    hit = intervals[(intervals["start"] <= on) & (ends > on)]
    return certificates[certificates["certificate_id"].isin(set(hit["certificate_id"]))]


def certified_models_over_time(
    certificates: pd.DataFrame, intervals: pd.DataFrame, dates: Sequence[date], by: str
) -> pd.DataFrame:
    """Distinct machine models holding an active certificate on each date, per value of ``by``
    (category, size_class, drive or grade). Long frame: as_of, <by>, models (0 rows omitted)."""
    if by not in MODEL_DIMENSIONS:
        raise ValueError(f"by must be one of {MODEL_DIMENSIONS}, got {by!r}")
    parts = []
    for on in dates:
        active = active_certificates_on(certificates, intervals, on)
        if active.empty:
            continue
        counts = active.groupby(by, sort=True)["machine_model_id"].nunique().rename("models").reset_index()
        counts.insert(0, "as_of", on)
        parts.append(counts)
    if not parts:
        return pd.DataFrame({"as_of": [], by: [], "models": []}).astype({"models": "int64"})
    out = pd.concat(parts, ignore_index=True)
    out["models"] = out["models"].astype("int64")
    return out.sort_values(["as_of", by]).reset_index(drop=True)


def makers_per_class(
    certificates: pd.DataFrame,
    intervals: pd.DataFrame,
    on: date,
    classes: pd.DataFrame | None = None,
    rule: CompetitionRule = COMPETITION_RULE,
) -> pd.DataFrame:
    """Per category and size class: distinct makers with an active certificate on ``on`` and
    whether the class is designatable (makers ≥ ``rule.min_makers``; DESIGN.md "Competition
    check", rule source in gxmachinery.rules.COMPETITION_RULE). ``classes`` (category,
    size_class) adds classes nobody holds, with 0 makers."""
    active = active_certificates_on(certificates, intervals, on)
    if active.empty:
        counts = pd.DataFrame({"category": [], "size_class": [], "makers": []})
    else:
        counts = (
            active.groupby(["category", "size_class"], sort=True)["maker_id"]
            .nunique()
            .rename("makers")
            .reset_index()
        )
    if classes is not None and not classes.empty:
        counts = (
            classes[["category", "size_class"]]
            .drop_duplicates()
            .merge(counts, on=["category", "size_class"], how="left")
        )
    counts["makers"] = counts["makers"].fillna(0).astype("int64")
    counts["designatable"] = counts["makers"] >= rule.min_makers
    return counts.sort_values(["category", "size_class"]).reset_index(drop=True)


def register_changes(
    certificates: pd.DataFrame,
    status_changes: pd.DataFrame,
    renewals: pd.DataFrame,
    start: date,
    end: date,
    today: date | None = None,
) -> pd.DataFrame:
    """The register's changes in [start, end]: new (issued), renewed, suspended, revoked and
    expired certificates, one row each (kind, on, certificate_id, number, maker, grade, reason).

    Expiry happens at ``valid_until`` whether or not the expiry job recorded it, so a certificate
    whose validity ended in the period (and not after ``today``) counts as expired once, even
    without a recorded change; a renewal before expiry moved ``valid_until`` and so is not an
    expiry.
    """
    today = today or date.today()
    rows: list[dict[str, Any]] = []
    info = certificates.set_index("certificate_id") if not certificates.empty else None

    def add(kind: str, on: date, cert_id: int, reason: Any = None) -> None:
        if info is None or cert_id not in info.index:
            return
        cert = info.loc[cert_id]
        rows.append(
            {
                "kind": kind,
                "on": on,
                "certificate_id": int(cert_id),
                "number": cert["number"],
                "maker": cert["maker"],
                "type_designation": cert["type_designation"],
                "grade": cert["grade"],
                "reason": None if reason is None or pd.isna(reason) else str(reason),
            }
        )

    if info is not None:
        for cert_id, cert in info.iterrows():
            if start <= cert["issued_on"] <= end:
                add("new", cert["issued_on"], int(cert_id))
    for r in renewals.itertuples(index=False):
        if start <= r.renewed_on <= end:
            add("renewed", r.renewed_on, int(r.certificate_id), getattr(r, "reason", None))
    expired_seen: set[int] = set()
    for c in status_changes.itertuples(index=False):
        if not start <= c.effective_from <= end:
            continue
        if c.status in ("suspended", "revoked"):
            add(str(c.status), c.effective_from, int(c.certificate_id), c.reason)
        elif c.status == "expired" and int(c.certificate_id) not in expired_seen:
            expired_seen.add(int(c.certificate_id))
            add("expired", c.effective_from, int(c.certificate_id), c.reason)
    if info is not None:
        # Implicit expiry: validity ended in the period, no recorded expiry, not ended by revocation.
        revoked_before = {
            int(c.certificate_id) for c in status_changes.itertuples(index=False) if c.status == "revoked"
        }
        for cert_id, cert in info.iterrows():
            until = cert["valid_until"]
            cid = int(cert_id)
            if start <= until <= min(end, today) and cid not in expired_seen and cid not in revoked_before:
                expired_seen.add(cid)
                add("expired", until, cid, "validity ended")
    columns = ["kind", "on", "certificate_id", "number", "maker", "type_designation", "grade", "reason"]
    out = pd.DataFrame(rows, columns=columns)
    order = {k: i for i, k in enumerate(CHANGE_KINDS)}
    if out.empty:
        return out
    out["_k"] = out["kind"].map(order)
    return out.sort_values(["on", "_k", "number"]).drop(columns="_k").reset_index(drop=True)


def register_change_counts(changes: pd.DataFrame) -> pd.DataFrame:
    """Counts of register changes by kind, every kind listed (0 when none)."""
    counts = changes["kind"].value_counts() if not changes.empty else pd.Series(dtype="int64")
    return pd.DataFrame(
        {"kind": list(CHANGE_KINDS), "certificates": [int(counts.get(k, 0)) for k in CHANGE_KINDS]}
    )


# ------------------------------------------------------------------------------------------
# Pure aggregation: usage and CO2
# ------------------------------------------------------------------------------------------

USAGE_COLUMNS = (
    "log_date",
    "fiscal_year",
    "agency_id",
    "agency",
    "project_id",
    "project",
    "contractor_id",
    "contractor",
    "runtime_h",
    "certified",
    "actual_co2_kg",
    "reference_co2_kg",
)
SUMMARY_COLUMNS = (
    "logs",
    "hours",
    "certified_hours",
    "certified_share",
    "actual_co2_kg",
    "reference_co2_kg",
    "reduction_co2_kg",
    "reduction_ratio",
)


def usage_summary(usage: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Machine-hours, hours on certified machines and their share, actual / reference CO2,
    reduction (reference − actual) and reduction ratio (reduction ÷ reference), per ``by``
    (DESIGN.md "CO2 accounting" and "Contractor history"). Shares and ratios are ratios of sums;
    None when the denominator is 0. ``by=()`` gives one total row."""
    frame = usage.copy()
    frame["certified_hours"] = frame["runtime_h"].where(frame["certified"].astype(bool), 0.0)
    sums = {"runtime_h": "sum", "certified_hours": "sum", "actual_co2_kg": "sum", "reference_co2_kg": "sum"}
    if by:
        grouped = frame.groupby(list(by), sort=True, dropna=False)
        out = grouped.agg(sums).reset_index()
        out.insert(len(by), "logs", grouped.size().to_numpy())
    else:
        out = pd.DataFrame(
            [
                {
                    "logs": len(frame),
                    **{col: float(frame[col].sum()) if len(frame) else 0.0 for col in sums},
                }
            ]
        )
    out = out.rename(columns={"runtime_h": "hours"})
    for col in ("hours", "certified_hours", "actual_co2_kg", "reference_co2_kg"):
        out[col] = out[col].astype("float64")
    out["logs"] = out["logs"].astype("int64")
    out["reduction_co2_kg"] = out["reference_co2_kg"] - out["actual_co2_kg"]
    out["certified_share"] = _ratio(out["certified_hours"], out["hours"])
    out["reduction_ratio"] = _ratio(out["reduction_co2_kg"], out["reference_co2_kg"])
    return out[[*by, *SUMMARY_COLUMNS]]


def _ratio(part: pd.Series, whole: pd.Series) -> pd.Series:
    safe = whole.where(whole != 0)
    return (part / safe).astype("float64")


# ------------------------------------------------------------------------------------------
# Pure: did the carbon criterion change the winner?
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarbonEffect:
    """The stored winner, the winner of the same evaluation without carbon, and whether they
    differ (None when the counterfactual cannot be evaluated; ``note`` says why)."""

    used_carbon: bool
    winner: str | None
    winner_without_carbon: str | None
    changed: bool | None
    note: str | None = None


def uses_carbon(snapshot: Mapping[str, Any]) -> bool:
    """A tender used carbon scoring when it had a carbon criterion or a carbon price adjustment."""
    criteria = (snapshot.get("inputs") or {}).get("criteria") or []
    adjustment = (snapshot.get("price_adjustment") or {}).get("settings")
    return any(c.get("is_carbon") for c in criteria) or bool(adjustment)


def inputs_without_carbon(snapshot: Mapping[str, Any]) -> EvaluationInputs:
    """The stored evaluation inputs with every carbon element removed: the carbon criterion, the
    carbon price adjustment (evaluated price = price) and the minimum-history-score exclusion.

    To keep the rest of the method comparable, a declared total drops by the carbon criterion's
    points, the tw_* pass mark is scaled in the same proportion (a 70/100 pass mark with a 20-point
    carbon criterion becomes 56/80), and meat_weighted weights are renormalised to sum to 1.
    These are this report's conventions (issue 6), not rules of the methods.
    """
    inputs = EvaluationInputs.from_dict(snapshot["inputs"])
    carbon = [c for c in inputs.criteria if c.is_carbon]
    kept = tuple(c for c in inputs.criteria if not c.is_carbon)
    carbon_points = sum((c.max_points for c in carbon), Decimal(0))
    carbon_weight = sum((c.weight or Decimal(0) for c in carbon), Decimal(0))
    full = sum((c.max_points for c in inputs.criteria), Decimal(0))
    p = inputs.params
    params = p.to_dict()
    if p.total_points is not None:
        params["total_points"] = p.total_points - carbon_points
    if full > 0 and carbon_points > 0:
        params["pass_mark"] = p.pass_mark * (full - carbon_points) / full
    if carbon_weight and p.price_weight is not None and carbon_weight < 1:
        scale = Decimal(1) - carbon_weight
        params["price_weight"] = p.price_weight / scale
        kept = tuple(
            Criterion(c.code, c.max_points, c.name, None if c.weight is None else c.weight / scale, False)
            for c in kept
        )
    carbon_info = snapshot.get("carbon") or {}
    bidders = []
    for b in inputs.bidders:
        breakdown = (carbon_info.get(b.bidder_id) or {}).get("breakdown") or {}
        history_reason = breakdown.get("reason") if breakdown.get("eligible_by_history") is False else None
        bidders.append(
            Bidder(
                bidder_id=b.bidder_id,
                price=b.price,
                carbon_score=None,
                evaluated_price=None,
                structure_points=b.structure_points,
                exclusion_reasons=tuple(r for r in b.exclusion_reasons if r != history_reason),
            )
        )
    return EvaluationInputs(
        bidders=tuple(bidders),
        criteria=kept,
        member_scores=inputs.member_scores,
        params=MethodParams(**{k: v for k, v in params.items() if v is not None}),
    )


def carbon_effect(snapshot: Mapping[str, Any], stored_winner: str | None) -> CarbonEffect:
    """Re-evaluate a stored evaluation without its carbon elements (``inputs_without_carbon``)
    with the same pure method (``scoring.methods.evaluate``) and compare winners."""
    if not uses_carbon(snapshot):
        return CarbonEffect(False, stored_winner, stored_winner, False)
    try:
        result = evaluate(snapshot["method"], inputs_without_carbon(snapshot))
    except (ScoringRuleError, KeyError, TypeError, ValueError) as exc:
        return CarbonEffect(True, stored_winner, None, None, f"cannot re-evaluate without carbon: {exc}")
    return CarbonEffect(True, stored_winner, result.winner_id, result.winner_id != stored_winner)


def tender_carbon_table(evaluations: pd.DataFrame) -> pd.DataFrame:
    """One row per tender (its latest evaluation): whether it used carbon scoring, the winner, the
    winner without carbon, and whether carbon changed the winner. ``evaluations`` columns:
    tender_id, reference, title, agency, method, status, as_of, snapshot, winner_key."""
    rows = []
    for e in evaluations.itertuples(index=False):
        effect = carbon_effect(e.snapshot, e.winner_key)
        names = {k: v.get("name") for k, v in (e.snapshot.get("bidders") or {}).items()}
        rows.append(
            {
                "tender_id": e.tender_id,
                "reference": e.reference,
                "title": e.title,
                "agency": e.agency,
                "method": e.method,
                "status": e.status,
                "evaluated_on": e.as_of,
                "carbon_scoring": effect.used_carbon,
                "winner": names.get(effect.winner) if effect.winner else None,
                "winner_without_carbon": (
                    names.get(effect.winner_without_carbon) if effect.winner_without_carbon else None
                ),
                "carbon_changed_winner": effect.changed,
                "note": effect.note,
            }
        )
    columns = [
        "tender_id",
        "reference",
        "title",
        "agency",
        "method",
        "status",
        "evaluated_on",
        "carbon_scoring",
        "winner",
        "winner_without_carbon",
        "carbon_changed_winner",
        "note",
    ]
    return pd.DataFrame(rows, columns=columns)


def carbon_effect_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Counts: tenders evaluated, using carbon scoring, where carbon changed the winner, and
    undetermined re-evaluations; with the share changed among those using carbon."""
    evaluated = len(table)
    carbon = table[table["carbon_scoring"].astype(bool)] if evaluated else table
    changed = int((carbon["carbon_changed_winner"] == True).sum()) if len(carbon) else 0  # noqa: E712
    undetermined = int(carbon["carbon_changed_winner"].isna().sum()) if len(carbon) else 0
    determined = len(carbon) - undetermined
    return pd.DataFrame(
        [
            {
                "tenders_evaluated": evaluated,
                "tenders_with_carbon_scoring": len(carbon),
                "carbon_changed_winner": changed,
                "undetermined": undetermined,
                "share_changed": (changed / determined) if determined else None,
            }
        ]
    )


# ------------------------------------------------------------------------------------------
# Readers (one query each)
# ------------------------------------------------------------------------------------------


def read_certificates() -> pd.DataFrame:
    """Every certificate with its model, maker, category, size class, drive and grade."""
    from gxmachinery.accounts.models import Organisation
    from gxmachinery.certification.models import (
        BaselineClass,
        BaselineSet,
        Category,
        Certificate,
        MachineModel,
    )
    from gxmachinery.extensions import db

    stmt = (
        select(
            Certificate.id,
            Certificate.number,
            MachineModel.id,
            MachineModel.type_designation,
            Certificate.maker_id,
            Organisation.name,
            Category.code,
            BaselineSet.code,
            BaselineClass.lower,
            BaselineClass.upper,
            Category.size_unit,
            MachineModel.drive,
            Certificate.grade,
            Certificate.issued_on,
            Certificate.valid_until,
        )
        .join(MachineModel, MachineModel.id == Certificate.machine_model_id)
        .join(Category, Category.id == MachineModel.category_id)
        .join(Organisation, Organisation.id == Certificate.maker_id)
        .join(BaselineSet, BaselineSet.id == Certificate.baseline_set_id)
        .outerjoin(BaselineClass, BaselineClass.id == Certificate.baseline_class_id)
        .order_by(Certificate.id)
    )
    rows = []
    for r in db.session.execute(stmt):
        rows.append(
            (r[0], r[1], r[2], r[3], r[4], r[5], r[6], size_class_label(r[6], r[7], r[8], r[9], r[10]))
            + (str(r[11]), r[12], r[13], r[14])
        )
    return pd.DataFrame(rows, columns=list(CERTIFICATE_COLUMNS))


def size_class_label(
    category: str, baseline_set: str, lower: Decimal | None, upper: Decimal | None, unit: str
) -> str:
    """The class a certificate was graded in, e.g. 'hydraulic_excavator [0.5, 0.8) m3 (MLIT_2020)'."""
    if lower is None:
        return f"{category} (—)"
    low = f"{Decimal(lower).normalize():f}"
    high = "∞" if upper is None else f"{Decimal(upper).normalize():f}"
    return f"{category} [{low}, {high}) {unit} ({baseline_set})".strip()


def read_classes() -> pd.DataFrame:
    """Every size class of every baseline set (category, size_class) for the competition table."""
    from gxmachinery.certification.models import BaselineClass, BaselineSet, Category
    from gxmachinery.extensions import db

    stmt = (
        select(Category.code, BaselineSet.code, BaselineClass.lower, BaselineClass.upper, Category.size_unit)
        .join(Category, Category.id == BaselineClass.category_id)
        .join(BaselineSet, BaselineSet.id == BaselineClass.baseline_set_id)
        .where(BaselineSet.active.is_(True))
    )
    rows = [(r[0], size_class_label(r[0], r[1], r[2], r[3], r[4])) for r in db.session.execute(stmt)]
    return pd.DataFrame(rows, columns=["category", "size_class"])


def read_intervals(certificate_ids: Iterable[int]) -> pd.DataFrame:
    """Active periods per certificate from the certification contract ``certified_intervals``."""
    from gxmachinery.certification.services import certified_intervals

    rows = [
        (cid, start, end)
        for cid, periods in certified_intervals(list(certificate_ids)).items()
        for start, end in periods
    ]
    return pd.DataFrame(rows, columns=list(INTERVAL_COLUMNS))


def read_status_changes() -> pd.DataFrame:
    from gxmachinery.certification.models import CertificateStatusChange
    from gxmachinery.extensions import db

    stmt = select(
        CertificateStatusChange.certificate_id,
        CertificateStatusChange.status,
        CertificateStatusChange.effective_from,
        CertificateStatusChange.reason,
    ).order_by(CertificateStatusChange.effective_from, CertificateStatusChange.id)
    rows = [(r[0], str(r[1]), r[2], r[3]) for r in db.session.execute(stmt)]
    return pd.DataFrame(rows, columns=["certificate_id", "status", "effective_from", "reason"])


def read_renewals() -> pd.DataFrame:
    from gxmachinery.certification.models import CertificateRenewal
    from gxmachinery.extensions import db

    stmt = select(CertificateRenewal.certificate_id, CertificateRenewal.renewed_on, CertificateRenewal.reason)
    rows = list(db.session.execute(stmt))
    return pd.DataFrame([tuple(r) for r in rows], columns=["certificate_id", "renewed_on", "reason"])


def read_usage(filters: DashboardFilters) -> pd.DataFrame:
    """Effective (not superseded) usage logs in the period, with project, agency and contractor."""
    from gxmachinery.accounts.models import Organisation
    from gxmachinery.extensions import db
    from registry.models import Project, UsageLog

    agency = aliased(Organisation)
    contractor = aliased(Organisation)
    stmt = (
        select(
            UsageLog.log_date,
            Project.agency_id,
            agency.name,
            Project.id,
            Project.contract_number,
            Project.name,
            UsageLog.contractor_id,
            contractor.name,
            UsageLog.runtime_h,
            UsageLog.certified,
            UsageLog.actual_co2_kg,
            UsageLog.reference_co2_kg,
        )
        .join(Project, Project.id == UsageLog.project_id)
        .join(agency, agency.id == Project.agency_id)
        .join(contractor, contractor.id == UsageLog.contractor_id)
        .where(
            UsageLog.superseded.is_(False),
            UsageLog.log_date >= filters.date_from,
            UsageLog.log_date <= filters.date_to,
        )
    )
    if filters.agency_id is not None:
        stmt = stmt.where(Project.agency_id == filters.agency_id)
    rows = [
        (
            r[0],
            fiscal_year_of(r[0]),
            r[1],
            r[2],
            r[3],
            f"{r[4]} {r[5]}",
            r[6],
            r[7],
            float(r[8] or 0),
            bool(r[9]),
            float(r[10] or 0),
            float(r[11] or 0),
        )
        for r in db.session.execute(stmt)
    ]
    frame = pd.DataFrame(rows, columns=list(USAGE_COLUMNS))
    return frame.astype(
        {"runtime_h": "float64", "actual_co2_kg": "float64", "reference_co2_kg": "float64", "certified": bool}
    )


def read_evaluations(filters: DashboardFilters) -> pd.DataFrame:
    """Each tender's latest evaluation dated in the period (optionally one agency's tenders)."""
    from gxmachinery.accounts.models import Organisation
    from gxmachinery.extensions import db
    from scoring.models import Evaluation, Tender

    stmt = (
        select(Evaluation, Tender, Organisation.name)
        .join(Tender, Tender.id == Evaluation.tender_id)
        .join(Organisation, Organisation.id == Tender.agency_id)
        .where(Evaluation.as_of >= filters.date_from, Evaluation.as_of <= filters.date_to)
        .order_by(Evaluation.tender_id, Evaluation.id)
    )
    if filters.agency_id is not None:
        stmt = stmt.where(Tender.agency_id == filters.agency_id)
    latest: dict[int, tuple[Any, Any, str]] = {}
    for evaluation, tender, agency_name in db.session.execute(stmt):
        latest[tender.id] = (evaluation, tender, agency_name)  # ordered by id: the last one wins
    rows = []
    for evaluation, tender, agency_name in latest.values():
        rows.append(
            {
                "tender_id": tender.id,
                "reference": tender.reference,
                "title": tender.title,
                "agency": agency_name,
                "method": evaluation.method,
                "status": str(tender.status),
                "as_of": evaluation.as_of,
                "snapshot": evaluation.snapshot,
                "winner_key": (evaluation.result or {}).get("winner_id"),
            }
        )
    columns = [
        "tender_id",
        "reference",
        "title",
        "agency",
        "method",
        "status",
        "as_of",
        "snapshot",
        "winner_key",
    ]
    return pd.DataFrame(rows, columns=columns)


# ------------------------------------------------------------------------------------------
# Assembled figures
# ------------------------------------------------------------------------------------------


@dataclass
class Figure:
    """One figure: a key (URL and sheet name), a frame, and how to chart it."""

    key: str
    frame: pd.DataFrame
    chart: str | None = None  # "line" | "bar" | None
    x: str | None = None
    series: str | None = None
    y: str | None = None
    notes: list[str] = field(default_factory=list)


FIGURE_KEYS = (
    "models_by_category",
    "models_by_size_class",
    "models_by_drive",
    "models_by_grade",
    "makers_per_class",
    "usage_by_year",
    "usage_by_agency",
    "usage_by_project",
    "usage_by_contractor",
    "tenders",
    "tender_summary",
)
PUBLIC_FIGURE_KEYS = (
    "models_by_category",
    "models_by_size_class",
    "models_by_drive",
    "models_by_grade",
    "makers_per_class",
    "usage_by_year",
    "usage_by_agency",
    "tenders",
    "tender_summary",
)


def certification_figures(date_from: date, date_to: date) -> dict[str, Figure]:
    """Certified models by category/class/drive/grade over time, makers per class at the end."""
    certificates = read_certificates()
    intervals = read_intervals(certificates["certificate_id"].tolist())
    dates = snapshot_dates(date_from, date_to)
    figures: dict[str, Figure] = {}
    for dim in MODEL_DIMENSIONS:
        frame = certified_models_over_time(certificates, intervals, dates, dim)
        figures[f"models_by_{dim}"] = Figure(
            f"models_by_{dim}", frame, "line" if len(dates) > 1 else "bar", "as_of", dim, "models"
        )
    figures["makers_per_class"] = Figure(
        "makers_per_class",
        makers_per_class(certificates, intervals, date_to, read_classes()),
        "bar",
        "size_class",
        None,
        "makers",
        notes=[COMPETITION_RULE.source],
    )
    return figures


def usage_figures(filters: DashboardFilters, public: bool = False) -> dict[str, Figure]:
    """Hours, certified share and CO2 by fiscal year, agency, project and contractor."""
    usage = read_usage(filters)
    figures = {
        "usage_by_year": Figure(
            "usage_by_year",
            usage_summary(usage, ["fiscal_year"]),
            "bar",
            "fiscal_year",
            None,
            "reduction_co2_kg",
        ),
        "usage_by_agency": Figure(
            "usage_by_agency", usage_summary(usage, ["agency"]), "bar", "agency", None, "reduction_co2_kg"
        ),
    }
    if not public:
        figures["usage_by_project"] = Figure(
            "usage_by_project", usage_summary(usage, ["project"]), "bar", "project", None, "reduction_co2_kg"
        )
        figures["usage_by_contractor"] = Figure(
            "usage_by_contractor",
            usage_summary(usage, ["contractor"]),
            "bar",
            "contractor",
            None,
            "certified_share",
        )
    return figures


def tender_figures(filters: DashboardFilters, public: bool = False) -> dict[str, Figure]:
    evaluations = read_evaluations(filters)
    table = tender_carbon_table(evaluations)
    if public:
        table = table[table["status"].isin(PUBLICATION.published_statuses)].reset_index(drop=True)
    summary = carbon_effect_summary(table)
    return {
        "tenders": Figure("tenders", table.drop(columns=["tender_id"])),
        "tender_summary": Figure("tender_summary", summary),
    }


def dashboard_figures(filters: DashboardFilters, public: bool = False) -> dict[str, Figure]:
    """Every figure of the dashboard for ``filters`` (the public set when ``public``)."""
    figures: dict[str, Figure] = {}
    figures.update(certification_figures(filters.date_from, filters.date_to))
    figures.update(usage_figures(filters, public))
    figures.update(tender_figures(filters, public))
    return figures


@dataclass
class AnnualReport:
    year: int
    date_from: date
    date_to: date
    public: bool
    figures: dict[str, Figure]
    changes: pd.DataFrame
    change_counts: pd.DataFrame


def annual_report(
    year: int, agency_id: int | None = None, public: bool = False, today: date | None = None
) -> AnnualReport:
    """The fiscal year's figures and the register's changes (new, renewed, suspended, revoked,
    expired) — the public version without confidential fields (see module docstring)."""
    start, end = fiscal_year_bounds(year)
    filters = DashboardFilters(start, end, agency_id)
    figures = dashboard_figures(filters, public)
    changes = register_changes(
        read_certificates(), read_status_changes(), read_renewals(), start, end, today=today
    )
    if public:
        # Reasons can name internal findings; the public register shows status and dates only.
        changes = changes.drop(columns=["reason"])
    return AnnualReport(year, start, end, public, figures, changes, register_change_counts(changes))
