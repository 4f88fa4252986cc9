"""Certification services (flush, never commit). See DESIGN.md "Certification"."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pandas as pd
from flask import Response, current_app
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from gxmachinery.accounts.models import Organisation, OrganisationKind, User
from gxmachinery.audit.services import record_event
from gxmachinery.certification.factors import CERTIFICATE_NUMBER, CERTIFICATE_VALIDITY, DEFAULT_FACTORS
from gxmachinery.certification.models import (
    Application,
    ApplicationDocument,
    ApplicationStatus,
    ApplicationStep,
    BaselineClass,
    BaselineSet,
    Category,
    Certificate,
    CertificateRenewal,
    CertificateStatus,
    CertificateStatusChange,
    ChangeKind,
    DocumentKind,
    Drive,
    MachineModel,
    NoticeOutcome,
    TestMethod,
    TestMode,
    TypeChangeNotice,
)
from gxmachinery.db import utcnow
from gxmachinery.efficiency import (
    Assessment,
    CertificationRuleError,
    EmissionFactorRef,
    SizeClass,
    assess_diesel,
    assess_electric,
    competition,
    find_size_class,
    review_baselines,
    validate_mode_weights,
)
from gxmachinery.errors import Conflict, Forbidden, InvalidInput, NotFound
from gxmachinery.extensions import db
from gxmachinery.rules import DRIVE_PATHS

Interval = tuple[date, date | None]


def _intervals_from_changes(
    changes: list[tuple[date, int, CertificateStatus]], valid_until: date
) -> list[Interval]:
    """Half-open active periods from a status history, clipped at valid_until (expiry)."""
    # Several changes effective the same day: the last recorded one decides that day.
    by_day: dict[date, CertificateStatus] = {}
    for effective_from, _id, status in sorted(changes, key=lambda c: (c[0], c[1])):
        by_day[effective_from] = status
    intervals: list[Interval] = []
    start: date | None = None
    for day in sorted(by_day):
        status = by_day[day]
        if status == CertificateStatus.active and start is None:
            start = day
        elif status != CertificateStatus.active and start is not None:
            intervals.append((start, day))
            start = None
    if start is not None:
        intervals.append((start, valid_until))
    clipped: list[Interval] = []
    for begin, end in intervals:
        stop = valid_until if end is None else min(end, valid_until)
        if begin < stop:
            clipped.append((begin, stop))
    return clipped


def certified_intervals(certificate_ids: Iterable[int]) -> dict[int, list[Interval]]:
    """Half-open [start, end) periods in which each certificate was active (one query).

    Built from the status history: active from an `active` change, until the next
    suspension/revocation/expiry change, and never on or after `valid_until` (automatic expiry,
    so an un-run expiry job never makes a certificate look active). A suspension or revocation
    counts from its effective date only, never before it. Unknown ids map to [].
    """
    ids = sorted(set(certificate_ids))
    result: dict[int, list[Interval]] = {cid: [] for cid in ids}
    if not ids:
        return result
    stmt = (
        select(
            Certificate.id,
            Certificate.valid_until,
            CertificateStatusChange.effective_from,
            CertificateStatusChange.id,
            CertificateStatusChange.status,
        )
        .join(CertificateStatusChange, CertificateStatusChange.certificate_id == Certificate.id)
        .where(Certificate.id.in_(ids))
    )
    changes: dict[int, list[tuple[date, int, CertificateStatus]]] = defaultdict(list)
    valid_until: dict[int, date] = {}
    for cert_id, until, effective_from, change_id, status in db.session.execute(stmt):
        changes[cert_id].append((effective_from, change_id, CertificateStatus(status)))
        valid_until[cert_id] = until
    for cert_id, rows in changes.items():
        result[cert_id] = _intervals_from_changes(rows, valid_until[cert_id])
    return result


def certificate_active_on(certificate: Certificate, on: date) -> bool:
    """True if `certificate` was active on day `on` (built on `certified_intervals`)."""
    intervals = certified_intervals([certificate.id]).get(certificate.id, [])
    return any(start <= on and (end is None or on < end) for start, end in intervals)


# ============================================================================================
# Everything below: reference data, applications, review, certificates, register, statistics.
# ============================================================================================


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, {field: [message]})


def _rule_error(exc: CertificationRuleError, prefix: str = "") -> InvalidInput:
    """A calculation rule error becomes a 422 naming the field."""
    field = f"{prefix}{exc.field}" if prefix else exc.field
    return InvalidInput(exc.message, {field: [exc.message]})


def _decimal(value: Any, field: str, *, positive: bool = False, allow_none: bool = False) -> Decimal | None:
    if value is None or value == "":
        if allow_none:
            return None
        raise _invalid(field, f"{field} is required")
    try:
        number = Decimal(str(value).strip())
    except Exception:  # noqa: BLE001 - any parse failure is the same user error
        raise _invalid(field, f"{field}: {value!r} is not a number") from None
    if not number.is_finite():
        raise _invalid(field, f"{field}: {value!r} is not a finite number")
    if positive and number <= 0:
        raise _invalid(field, f"{field} must be > 0, got {number}")
    return number


def _num(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.normalize():f}"


# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------


def get_category(ref: int | str, field: str = "category") -> Category:
    """A category by id or code; unknown -> 422 naming `field`."""
    text = str(ref).strip()
    condition = (
        or_(Category.id == int(text), Category.code == text) if text.isdigit() else Category.code == text
    )
    category = db.session.scalar(select(Category).where(condition))
    if category is None:
        raise _invalid(field, f"unknown category {ref!r}")
    return category


def get_baseline_set(ref: int | str, field: str = "baseline_set") -> BaselineSet:
    if isinstance(ref, int) or str(ref).isdigit():
        found = db.session.get(BaselineSet, int(ref))
    else:
        found = db.session.scalar(select(BaselineSet).where(BaselineSet.code == str(ref)))
    if found is None:
        raise _invalid(field, f"unknown baseline set {ref!r}")
    return found


def test_method_for(category: Category) -> TestMethod:
    """The test method of a category (one per category)."""
    method = db.session.scalar(
        select(TestMethod).where(TestMethod.category_id == category.id).order_by(TestMethod.id.desc())
    )
    if method is None:
        raise _invalid("category", f"category {category.code!r} has no test method")
    return method


test_method_for.__test__ = False  # type: ignore[attr-defined]


def save_category(data: Mapping[str, Any], actor: User | None = None) -> Category:
    """Create or update a category by `code` (audited; an unchanged category is not touched)."""
    code = str(data.get("code") or "").strip()
    if not code:
        raise _invalid("code", "code is required")
    values = {
        key: str(data.get(key) or "").strip() for key in ("name_en", "name_zh", "size_attribute", "size_unit")
    }
    for key, value in values.items():
        if not value:
            raise _invalid(key, f"{key} is required")
    source = data.get("source")
    category = db.session.scalar(select(Category).where(Category.code == code))
    before = None
    if category is None:
        category = Category(code=code, source=source, **values)
        db.session.add(category)
        action = "category.create"
    else:
        current = {key: getattr(category, key) for key in values} | {"source": category.source}
        if current == values | {"source": source}:
            return category
        before = current
        for key, value in values.items():
            setattr(category, key, value)
        category.source = source
        action = "category.update"
    record_event(action, category, actor=actor, before=before, after=values | {"code": code})
    return category


def save_test_method(data: Mapping[str, Any], actor: User | None = None) -> TestMethod:
    """Create or update a test method by `code`; mode weights must be > 0 and sum to 1
    (燃料消費量評価値算定要領). A method in use by applications gets a new version number."""
    code = str(data.get("code") or "").strip()
    if not code:
        raise _invalid("code", "code is required")
    category = get_category(data.get("category") or data.get("category_id") or "", "category")
    unit = str(data.get("unit") or "").strip()
    if not unit:
        raise _invalid("unit", "unit is required")
    modes = list(data.get("modes") or [])
    weights: dict[str, Any] = {}
    for index, mode in enumerate(modes):
        mode_code = str(mode.get("code") or "").strip()
        if not mode_code:
            raise _invalid(f"modes.{index}.code", "mode code is required")
        if mode_code in weights:
            raise _invalid(f"modes.{index}.code", f"duplicate mode {mode_code!r}")
        weights[mode_code] = _decimal(mode.get("weight"), f"weights.{mode_code}")
    try:
        checked = validate_mode_weights(weights)
    except CertificationRuleError as exc:
        raise _rule_error(exc) from None
    method = db.session.scalar(select(TestMethod).where(TestMethod.code == code))
    new_modes = [
        (
            str(m["code"]).strip(),
            str(m.get("name_en") or m["code"]),
            str(m.get("name_zh") or ""),
            checked[str(m["code"]).strip()],
        )
        for m in modes
    ]
    after = {"category": category.code, "unit": unit, "modes": {c: str(w) for c, _n, _z, w in new_modes}}
    before = None
    if method is None:
        method = TestMethod(
            code=code,
            category=category,
            unit=unit,
            title=str(data.get("title") or code),
            illustrative=bool(data.get("illustrative", False)),
            source=data.get("source"),
        )
        db.session.add(method)
        action = "test_method.create"
    else:
        before = {
            "category": method.category.code,
            "unit": method.unit,
            "modes": {m.code: str(m.weight.normalize()) for m in method.modes},
        }
        normal_after = {
            "category": category.code,
            "unit": unit,
            "modes": {c: str(w.normalize()) for c, _n, _z, w in new_modes},
        }
        if before == normal_after and method.title == str(data.get("title") or code):
            return method
        method.category = category
        method.unit = unit
        method.title = str(data.get("title") or code)
        method.source = data.get("source")
        method.version += 1
        method.modes.clear()
        db.session.flush()
        action = "test_method.update"
    for position, (mode_code, name_en, name_zh, weight) in enumerate(new_modes):
        method.modes.append(
            TestMode(code=mode_code, name_en=name_en, name_zh=name_zh, weight=weight, position=position)
        )
    record_event(action, method, actor=actor, before=before, after=after | {"version": method.version})
    return method


def _baseline_in_use(baseline_set: BaselineSet) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Application)
            .where(Application.baseline_set_id == baseline_set.id)
        )
        or 0
    ) > 0


def save_baseline_set(data: Mapping[str, Any], actor: User | None = None) -> BaselineSet:
    """Create (or, while no application uses it, replace) a versioned baseline set with its classes.

    Checks per class: known category, lower < upper, baseline > 0, unit equal to the category's
    test-method unit, and no overlap between classes of one category ([lower, upper), 規程 別表一).
    A set already used by applications is frozen: publish a new set (new code) instead -> 409.
    """
    code = str(data.get("code") or "").strip()
    if not code:
        raise _invalid("code", "code is required")
    label = str(data.get("full_grade_label") or "").strip()
    if not label:
        raise _invalid("full_grade_label", "full_grade_label is required")
    effective = data.get("effective_from")
    if isinstance(effective, str):
        try:
            effective = date.fromisoformat(effective)
        except ValueError:
            raise _invalid("effective_from", f"effective_from {effective!r} is not a date") from None
    if not isinstance(effective, date):
        raise _invalid("effective_from", "effective_from is required")
    rows = list(data.get("classes") or [])
    if not rows:
        raise _invalid("classes", "a baseline set needs at least one class")
    parsed: list[dict[str, Any]] = []
    by_category: dict[int, list[SizeClass]] = defaultdict(list)
    for index, row in enumerate(rows):
        prefix = f"classes.{index}."
        category = get_category(row.get("category") or row.get("category_id") or "", prefix + "category")
        lower = _decimal(row.get("lower"), prefix + "lower")
        upper = _decimal(row.get("upper"), prefix + "upper", allow_none=True)
        baseline = _decimal(row.get("baseline_value"), prefix + "baseline_value", positive=True)
        unit = str(row.get("unit") or "").strip()
        method = db.session.scalar(select(TestMethod).where(TestMethod.category_id == category.id))
        if method is not None and unit != method.unit:
            raise _invalid(
                prefix + "unit",
                f"unit {unit!r} does not match the test method {method.code} unit {method.unit!r}",
            )
        try:
            size_class = SizeClass(id=index, lower=lower, upper=upper, baseline_value=baseline, unit=unit)  # type: ignore[arg-type]
        except CertificationRuleError as exc:
            raise InvalidInput(exc.message, {prefix + exc.field.rsplit(".", 1)[-1]: [exc.message]}) from None
        for other in by_category[category.id]:
            overlap = (other.upper is None or size_class.lower < other.upper) and (
                size_class.upper is None or other.lower < size_class.upper
            )
            if overlap:
                raise _invalid(prefix + "lower", f"class {size_class.describe()} overlaps {other.describe()}")
        by_category[category.id].append(size_class)
        parsed.append(
            {
                "category": category,
                "lower": lower,
                "upper": upper,
                "baseline_value": baseline,
                "unit": unit,
                "illustrative": bool(row.get("illustrative", False)),
                "source": row.get("source"),
            }
        )
    summary = [
        {
            "category": p["category"].code,
            "lower": _num(p["lower"]),
            "upper": _num(p["upper"]),
            "baseline_value": _num(p["baseline_value"]),
            "unit": p["unit"],
        }
        for p in parsed
    ]
    header = {
        "title": str(data.get("title") or code),
        "effective_from": effective.isoformat(),
        "full_grade_label": label,
    }
    baseline_set = db.session.scalar(select(BaselineSet).where(BaselineSet.code == code))
    before = None
    if baseline_set is None:
        baseline_set = BaselineSet(
            code=code,
            title=header["title"],
            effective_from=effective,
            full_grade_label=label,
            source=data.get("source"),
            active=bool(data.get("active", True)),
        )
        db.session.add(baseline_set)
        action = "baseline_set.create"
    else:
        before = _baseline_summary(baseline_set)
        if before == {"header": header, "classes": summary}:
            return baseline_set
        if _baseline_in_use(baseline_set):
            raise Conflict(
                f"baseline set {code} is used by applications; publish a new baseline set instead",
                {"code": ["baseline set in use; create a new version with a new code"]},
            )
        for old in list(baseline_set.classes):
            db.session.delete(old)
        db.session.flush()
        baseline_set.title = header["title"]
        baseline_set.effective_from = effective
        baseline_set.full_grade_label = label
        baseline_set.source = data.get("source")
        baseline_set.version += 1
        action = "baseline_set.update"
    db.session.flush()
    for p in parsed:
        db.session.add(
            BaselineClass(
                baseline_set_id=baseline_set.id,
                category_id=p["category"].id,
                lower=p["lower"],
                upper=p["upper"],
                baseline_value=p["baseline_value"],
                unit=p["unit"],
                illustrative=p["illustrative"],
                source=p["source"],
            )
        )
    db.session.flush()
    db.session.expire(baseline_set, ["classes"])
    record_event(
        action,
        baseline_set,
        actor=actor,
        before=before,
        after={"header": header, "classes": summary, "version": baseline_set.version},
    )
    return baseline_set


def _baseline_summary(baseline_set: BaselineSet) -> dict[str, Any]:
    return {
        "header": {
            "title": baseline_set.title,
            "effective_from": baseline_set.effective_from.isoformat(),
            "full_grade_label": baseline_set.full_grade_label,
        },
        "classes": [
            {
                "category": c.category.code,
                "lower": _num(c.lower),
                "upper": _num(c.upper),
                "baseline_value": _num(c.baseline_value),
                "unit": c.unit,
            }
            for c in baseline_set.classes
        ],
    }


def load_reference(payload: Mapping[str, Any], actor: User | None = None) -> dict[str, int]:
    """Load categories, test methods and baseline sets (the reference_seed.json shape); idempotent."""
    counts = {"categories": 0, "test_methods": 0, "baseline_sets": 0}
    for index, row in enumerate(payload.get("categories") or []):
        try:
            save_category(row, actor)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, {f"categories.{index}": exc.errors}) from None
        counts["categories"] += 1
    for index, row in enumerate(payload.get("test_methods") or []):
        try:
            save_test_method(row, actor)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, {f"test_methods.{index}": exc.errors}) from None
        counts["test_methods"] += 1
    for index, row in enumerate(payload.get("baseline_sets") or []):
        try:
            save_baseline_set(row, actor)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, {f"baseline_sets.{index}": exc.errors}) from None
        counts["baseline_sets"] += 1
    return counts


BASELINE_CSV_COLUMNS = (
    "baseline_set",
    "title",
    "effective_from",
    "full_grade_label",
    "category",
    "lower",
    "upper",
    "baseline_value",
    "unit",
)


def read_reference_file(path: str | Path) -> dict[str, Any]:
    """Read a reference file: .json (reference_seed.json shape), or .csv/.xlsx of baseline classes
    with columns BASELINE_CSV_COLUMNS (one row per class; rows grouped into sets by baseline_set).
    An .xlsx may also carry sheets `categories` and `test_modes` (test_method, category, unit,
    title, code, name_en, name_zh, weight). Errors name the row (1-based, header = row 1) and column."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        with path.open(encoding="utf-8") as fh:
            return dict(json.load(fh, parse_float=Decimal))
    if suffix == ".csv":
        sheets = {
            "baseline_classes": pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        }
    elif suffix in {".xlsx", ".xlsm"}:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
        if "baseline_classes" not in sheets and len(sheets) == 1:
            sheets = {"baseline_classes": next(iter(sheets.values()))}
    else:
        raise _invalid("file", f"unsupported file type {suffix!r} (use .json, .csv or .xlsx)")
    return reference_from_frames(sheets)


def reference_from_frames(sheets: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    payload: dict[str, Any] = {"categories": [], "test_methods": [], "baseline_sets": []}
    if "categories" in sheets:
        payload["categories"] = [dict(r) for r in sheets["categories"].to_dict("records")]
    if "test_modes" in sheets:
        methods: dict[str, dict[str, Any]] = {}
        for row in sheets["test_modes"].to_dict("records"):
            method = methods.setdefault(
                row["test_method"],
                {
                    "code": row["test_method"],
                    "category": row.get("category"),
                    "unit": row.get("unit"),
                    "title": row.get("title") or row["test_method"],
                    "modes": [],
                },
            )
            method["modes"].append(
                {
                    "code": row.get("code"),
                    "name_en": row.get("name_en"),
                    "name_zh": row.get("name_zh"),
                    "weight": row.get("weight"),
                }
            )
        payload["test_methods"] = list(methods.values())
    frame = sheets.get("baseline_classes")
    if frame is not None:
        missing = [c for c in BASELINE_CSV_COLUMNS if c not in frame.columns]
        if missing:
            raise _invalid(
                missing[0], f"column {missing[0]!r} is required (columns: {', '.join(BASELINE_CSV_COLUMNS)})"
            )
        sets: dict[str, dict[str, Any]] = {}
        for offset, row in enumerate(frame.to_dict("records")):
            row_label = f"row {offset + 2}"
            for column in ("baseline_set", "category", "lower", "baseline_value", "unit"):
                if not str(row.get(column) or "").strip():
                    raise InvalidInput(
                        f"{row_label}: {column} is required",
                        {f"{row_label}.{column}": [f"{column} is required"]},
                    )
            for column in ("lower", "upper", "baseline_value"):
                raw = str(row.get(column) or "").strip()
                if raw:
                    try:
                        value = Decimal(raw)
                    except Exception:  # noqa: BLE001
                        raise InvalidInput(
                            f"{row_label}: {column} {raw!r} is not a number",
                            {f"{row_label}.{column}": ["not a number"]},
                        ) from None
                    if column == "baseline_value" and value <= 0:
                        raise InvalidInput(
                            f"{row_label}: baseline_value must be > 0",
                            {f"{row_label}.{column}": ["must be > 0"]},
                        )
            entry = sets.setdefault(
                row["baseline_set"],
                {
                    "code": row["baseline_set"],
                    "title": row.get("title") or row["baseline_set"],
                    "effective_from": row.get("effective_from"),
                    "full_grade_label": row.get("full_grade_label"),
                    "classes": [],
                    "_rows": [],
                },
            )
            entry["classes"].append(
                {k: (row.get(k) or None) for k in ("category", "lower", "upper", "baseline_value", "unit")}
                | {"source": row.get("source") or None}
            )
            entry["_rows"].append(offset + 2)
        payload["baseline_sets"] = list(sets.values())
    return payload


def load_reference_file(path: str | Path, actor: User | None = None) -> dict[str, int]:
    """Read and load a reference file; a class error names the file row and column."""
    payload = read_reference_file(path)
    counts = load_reference({k: v for k, v in payload.items() if k != "baseline_sets"}, actor)
    for entry in payload.get("baseline_sets", []):
        rows = entry.pop("_rows", None)
        if rows is None:
            continue
        try:
            save_baseline_set(entry, actor)
        except InvalidInput as exc:
            errors: dict[str, Any] = {}
            for key, messages in exc.errors.items():
                parts = str(key).split(".")
                if parts[0] == "classes" and len(parts) >= 3:
                    errors[f"row {rows[int(parts[1])]}.{parts[2]}"] = messages
                else:
                    errors[key] = messages
            raise InvalidInput(exc.message, errors) from None
    counts["baseline_sets"] = len(payload.get("baseline_sets", []))
    return counts


# --------------------------------------------------------------------------------------------
# Applications
# --------------------------------------------------------------------------------------------

MAKER_EDITABLE = frozenset({ApplicationStatus.draft, ApplicationStatus.info_requested})
OPEN_STATUSES = frozenset(
    {
        ApplicationStatus.draft,
        ApplicationStatus.submitted,
        ApplicationStatus.under_review,
        ApplicationStatus.info_requested,
    }
)
MODEL_FIELDS = (
    "type_designation",
    "catalogue_names",
    "drive",
    "rated_power_kw",
    "mass_kg",
    "size_value",
    "emission_stage",
)


def _require_maker_org(actor: User) -> int:
    org = db.session.get(Organisation, actor.organisation_id)
    if not actor.is_admin and (org is None or org.kind != OrganisationKind.maker):
        raise Forbidden("Only a machinery maker may apply for certification.")
    return actor.organisation_id


def _timeline(
    application: Application,
    actor: User | None,
    kind: str,
    message: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
) -> ApplicationStep:
    step = ApplicationStep(
        application=application,
        kind=kind,
        message=message,
        from_status=from_status,
        to_status=to_status,
        actor_id=actor.id if actor else None,
        actor_label=actor.name if actor else "system",
    )
    db.session.add(step)
    return step


def _check_drive(value: Any) -> Drive:
    try:
        return Drive(str(value))
    except ValueError:
        raise _invalid(
            "drive", f"unknown drive {value!r} (one of {', '.join(d.value for d in Drive)})"
        ) from None


def _apply_model_data(model: MachineModel, data: Mapping[str, Any], maker_id: int) -> None:
    if "type_designation" in data:
        designation = str(data.get("type_designation") or "").strip()
        if not designation:
            raise _invalid("type_designation", "type_designation is required")
        clash = db.session.scalar(
            select(MachineModel.id).where(
                MachineModel.maker_id == maker_id,
                MachineModel.type_designation == designation,
                MachineModel.id != (model.id or 0),
            )
        )
        if clash is not None:
            raise _invalid(
                "type_designation", f"type designation {designation!r} is already registered by this maker"
            )
        model.type_designation = designation
    if "catalogue_names" in data:
        names = data.get("catalogue_names") or []
        if isinstance(names, str):
            names = [n.strip() for n in names.replace("\n", ",").split(",")]
        model.catalogue_names = [str(n).strip() for n in names if str(n).strip()]
    if "drive" in data:
        model.drive = _check_drive(data["drive"])
    if "rated_power_kw" in data:
        model.rated_power_kw = _decimal(data.get("rated_power_kw"), "rated_power_kw", positive=True)  # type: ignore[assignment]
    if "mass_kg" in data:
        model.mass_kg = _decimal(data.get("mass_kg"), "mass_kg", positive=True, allow_none=True)
    if "size_value" in data:
        model.size_value = _decimal(data.get("size_value"), "size_value", positive=True)  # type: ignore[assignment]
    if "emission_stage" in data:
        model.emission_stage = str(data.get("emission_stage") or "").strip() or None


def _check_measurements(raw: Mapping[str, Any] | None, method: TestMethod) -> dict[str, str]:
    """Measured values per work mode: known modes only, each > 0 (missing modes checked on submit)."""
    modes = {m.code for m in method.modes}
    out: dict[str, str] = {}
    for mode, value in (raw or {}).items():
        field = f"measurements.{mode}"
        if mode not in modes:
            raise _invalid(
                field, f"{mode!r} is not a work mode of {method.code} (modes: {', '.join(sorted(modes))})"
            )
        if value is None or value == "":
            continue
        number = _decimal(value, field, positive=True)
        out[mode] = _num(number)  # type: ignore[assignment]
    return out


def create_application(actor: User, data: Mapping[str, Any]) -> Application:
    """A maker drafts an application: the model data, the baseline set, measurements per mode.

    Checks: maker organisation (403 otherwise), known category and baseline set, the size value in a
    class of the set, a unique type designation per maker, measurements > 0 on known modes.
    The preview (evaluation, class, achievement, grade) is computed at once when measurements are complete.
    """
    maker_id = _require_maker_org(actor)
    if actor.is_admin and data.get("maker_id"):
        maker_id = int(data["maker_id"])
    category = get_category(data.get("category") or data.get("category_id") or "", "category")
    baseline_set = get_baseline_set(
        data.get("baseline_set") or data.get("baseline_set_id") or "", "baseline_set"
    )
    method = test_method_for(category)
    for required in ("type_designation", "drive", "rated_power_kw", "size_value"):
        if data.get(required) in (None, ""):
            raise _invalid(required, f"{required} is required")
    model = MachineModel(maker_id=maker_id, category=category, category_id=category.id, catalogue_names=[])
    _apply_model_data(model, data, maker_id)
    application = Application(
        maker_id=maker_id,
        machine_model=model,
        baseline_set=baseline_set,
        test_method=method,
        baseline_set_id=baseline_set.id,
        test_method_id=method.id,
        status=ApplicationStatus.draft,
        measurements=_check_measurements(data.get("measurements"), method),
        created_by_id=actor.id,
    )
    _set_default_factors(application)
    _compute(application, strict=False)
    db.session.add_all([model, application])
    db.session.flush()
    _timeline(application, actor, "transition", None, None, ApplicationStatus.draft)
    record_event(
        "application.create",
        application,
        actor=actor,
        subject_organisation_id=maker_id,
        after=application_summary(application),
    )
    return application


def update_application(actor: User, application: Application, data: Mapping[str, Any]) -> Application:
    """A maker edits model data / measurements while the application is a draft or info is requested."""
    if application.status not in MAKER_EDITABLE:
        raise Conflict(
            f"application {application.id} is {application.status}; only drafts and applications with an "
            "information request can be edited",
            {"status": [f"cannot edit in status {application.status}"]},
        )
    before = application_summary(application)
    model = application.machine_model
    if data.get("category") or data.get("category_id"):
        category = get_category(data.get("category") or data.get("category_id") or "", "category")
        if category.id != model.category_id:
            model.category = category
            model.category_id = category.id
            application.test_method = test_method_for(category)
            application.measurements = {}
    if data.get("baseline_set") or data.get("baseline_set_id"):
        application.baseline_set = get_baseline_set(
            data.get("baseline_set") or data.get("baseline_set_id") or ""
        )
    _apply_model_data(model, {k: v for k, v in data.items() if k in MODEL_FIELDS}, application.maker_id)
    if "measurements" in data:
        merged = dict(application.measurements or {})
        merged.update(_check_measurements(data.get("measurements"), application.test_method))
        application.measurements = merged
    _set_default_factors(application, keep=True)
    _compute(application, strict=False)
    db.session.flush()
    record_event(
        "application.update",
        application,
        actor=actor,
        subject_organisation_id=application.maker_id,
        before=before,
        after=application_summary(application),
    )
    return application


def _set_default_factors(application: Application, keep: bool = False) -> None:
    for key in ("diesel", "grid"):
        if keep and getattr(application, f"{key}_factor_value") is not None:
            continue
        factor = DEFAULT_FACTORS[key]
        setattr(application, f"{key}_factor_value", factor.value)
        setattr(application, f"{key}_factor_unit", factor.unit)
        setattr(application, f"{key}_factor_label", factor.label)


def set_factors(actor: User, application: Application, data: Mapping[str, Any]) -> Application:
    """Certifier/admin override of the diesel and grid factors used for the GX CO2e achievement."""
    if application.status not in OPEN_STATUSES:
        raise Conflict(
            f"application {application.id} is {application.status}; factors are frozen",
            {"status": [f"cannot change factors in status {application.status}"]},
        )
    before = factors_used(application)
    for key in ("diesel", "grid"):
        value = data.get(f"{key}_factor_value")
        if value is None:
            continue
        setattr(application, f"{key}_factor_value", _decimal(value, f"{key}_factor_value", positive=True))
        label = str(data.get(f"{key}_factor_label") or "").strip()
        if not label:
            raise _invalid(f"{key}_factor_label", "name the factor (source, year) you use")
        setattr(application, f"{key}_factor_label", label)
        if data.get(f"{key}_factor_unit"):
            setattr(application, f"{key}_factor_unit", str(data[f"{key}_factor_unit"]))
    _compute(application, strict=False)
    record_event(
        "application.factors",
        application,
        actor=actor,
        subject_organisation_id=application.maker_id,
        reason=data.get("reason"),
        before=before,
        after=factors_used(application),
    )
    return application


def factors_used(application: Application) -> dict[str, dict[str, str | None]]:
    return {
        key: {
            "label": getattr(application, f"{key}_factor_label"),
            "value": _num(getattr(application, f"{key}_factor_value")),
            "unit": getattr(application, f"{key}_factor_unit"),
        }
        for key in ("diesel", "grid")
    }


def size_classes(baseline_set: BaselineSet, category_id: int) -> list[SizeClass]:
    return [
        SizeClass(id=c.id, lower=c.lower, upper=c.upper, baseline_value=c.baseline_value, unit=c.unit)
        for c in baseline_set.classes
        if c.category_id == category_id
    ]


def assess(application: Application) -> Assessment:
    """Assess the application by the pure rules (規程 第三条; GX electric path). Raises
    CertificationRuleError naming the field."""
    model = application.machine_model
    classes = size_classes(application.baseline_set, model.category_id)
    weights = application.test_method.weights()
    drive = str(model.drive)
    if drive in DRIVE_PATHS.electric_drives:
        return assess_electric(
            size_value=model.size_value,
            classes=classes,
            kwh_measurements=application.measurements,
            weights=weights,
            drive=drive,
            diesel_factor=EmissionFactorRef(
                "diesel",
                application.diesel_factor_label or "",
                application.diesel_factor_value or Decimal(0),
                application.diesel_factor_unit or "",
            ),
            grid_factor=EmissionFactorRef(
                "grid",
                application.grid_factor_label or "",
                application.grid_factor_value or Decimal(0),
                application.grid_factor_unit or "",
            ),
        )
    if drive not in DRIVE_PATHS.fuel_drives:
        raise CertificationRuleError("drive", f"drive {drive!r} is not eligible for certification")
    return assess_diesel(
        size_value=model.size_value,
        classes=classes,
        measurements=application.measurements,
        weights=weights,
        full_label=application.baseline_set.full_grade_label,
        drive=drive,
    )


def _compute(application: Application, strict: bool) -> None:
    """Refresh the stored preview. Not strict (drafts): an incomplete set of measurements clears the
    preview, but a size outside every class or an ineligible drive is reported at once."""
    model = application.machine_model
    classes = size_classes(application.baseline_set, model.category_id)
    try:
        find_size_class(classes, model.size_value)
        if str(model.drive) not in DRIVE_PATHS.fuel_drives | DRIVE_PATHS.electric_drives:
            raise CertificationRuleError("drive", f"drive {model.drive!r} is not eligible for certification")
    except CertificationRuleError as exc:
        raise _rule_error(exc) from None
    try:
        result = assess(application)
    except CertificationRuleError as exc:
        if strict or not exc.field.startswith("measurements."):
            raise _rule_error(exc) from None
        application.evaluation_value = None
        application.evaluation_unit = None
        application.achievement = None
        application.co2e_achievement = None
        application.grade = None
        application.baseline_class_id = int(str(find_size_class(classes, model.size_value).id))
        return
    application.evaluation_value = result.evaluation_value
    application.evaluation_unit = result.evaluation_unit
    application.baseline_class_id = int(str(result.size_class.id))
    application.achievement = result.achievement
    application.co2e_achievement = result.co2e_achievement
    application.grade = result.grade


@dataclass(frozen=True)
class Preview:
    """What the maker sees before submitting: would it pass?"""

    complete: bool
    evaluation_value: Decimal | None
    evaluation_unit: str | None
    baseline_value: Decimal | None
    size_class: str | None
    achievement: Decimal | None
    co2e_achievement: Decimal | None
    grade: str | None
    passes: bool
    missing_modes: list[str]
    factors: dict[str, dict[str, str | None]] | None
    message: str


def preview(application: Application) -> Preview:
    """The computed evaluation value, class, achievement and grade, and whether it would pass."""
    missing = [
        m.code for m in application.test_method.modes if m.code not in (application.measurements or {})
    ]
    klass = (
        db.session.get(BaselineClass, application.baseline_class_id)
        if application.baseline_class_id
        else None
    )
    electric = str(application.machine_model.drive) in DRIVE_PATHS.electric_drives
    passes = not missing and application.grade is not None
    if missing:
        message = "Enter the measured values for: " + ", ".join(missing)
    elif passes:
        message = f"Would pass: grade {application.grade}"
    else:
        message = "Would not pass: the evaluation value is above the baseline ÷ 0.85"
    return Preview(
        complete=not missing,
        evaluation_value=application.evaluation_value,
        evaluation_unit=application.evaluation_unit,
        baseline_value=klass.baseline_value if klass else None,
        size_class=klass.label if klass else None,
        achievement=application.achievement,
        co2e_achievement=application.co2e_achievement,
        grade=application.grade,
        passes=passes,
        missing_modes=missing,
        factors=factors_used(application) if electric else None,
        message=message,
    )


def application_summary(application: Application) -> dict[str, Any]:
    model = application.machine_model
    return {
        "status": str(application.status),
        "type_designation": model.type_designation,
        "drive": str(model.drive),
        "size_value": _num(model.size_value),
        "rated_power_kw": _num(model.rated_power_kw),
        "measurements": dict(application.measurements or {}),
        "evaluation_value": _num(application.evaluation_value),
        "achievement": _num(application.achievement),
        "co2e_achievement": _num(application.co2e_achievement),
        "grade": application.grade,
    }


def _transition(
    application: Application,
    actor: User | None,
    allowed_from: Iterable[ApplicationStatus],
    to: ApplicationStatus,
    action: str,
    reason: str | None = None,
    kind: str = "transition",
) -> None:
    allowed = set(allowed_from)
    if application.status not in allowed:
        raise Conflict(
            f"cannot move application {application.id} from {application.status} to {to} "
            f"(allowed from: {', '.join(sorted(str(s) for s in allowed))})",
            {"status": [f"is {application.status}"]},
        )
    before = str(application.status)
    application.status = to
    _timeline(application, actor, kind, reason, before, str(to))
    record_event(
        f"application.{action}",
        application,
        actor=actor,
        subject_organisation_id=application.maker_id,
        reason=reason,
        before={"status": before},
        after={"status": str(to)},
    )


def _require_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise _invalid("reason", "a reason is required")
    return text


def submit_application(actor: User, application: Application) -> Application:
    """draft -> submitted. All modes must be measured (422 naming `measurements.<mode>`) and a test
    report attached (422 `documents`); any other status -> 409 with nothing changed."""
    if application.status != ApplicationStatus.draft:
        raise Conflict(
            f"cannot submit application {application.id}: it is {application.status} (must be draft)",
            {"status": [f"is {application.status}"]},
        )
    _compute(application, strict=True)
    if not any(d.kind == DocumentKind.test_report for d in application.documents):
        raise _invalid("documents", "attach the test report (PDF) before submitting")
    _transition(application, actor, {ApplicationStatus.draft}, ApplicationStatus.submitted, "submit")
    application.submitted_at = utcnow()
    return application


def withdraw_application(actor: User, application: Application, reason: str | None = None) -> Application:
    """The maker withdraws an application that is not yet decided."""
    _transition(application, actor, OPEN_STATUSES, ApplicationStatus.withdrawn, "withdraw", reason)
    return application


def _check_reviewer(actor: User, application: Application) -> None:
    """A certifier may not review an application from its own organisation (conflict of interest)."""
    if actor.organisation_id == application.maker_id:
        raise Forbidden("You may not review an application from your own organisation.")


def start_review(actor: User, application: Application) -> Application:
    """submitted -> under_review (the certifier takes the application)."""
    _check_reviewer(actor, application)
    _transition(
        application, actor, {ApplicationStatus.submitted}, ApplicationStatus.under_review, "start_review"
    )
    application.reviewer_id = actor.id
    return application


def request_information(actor: User, application: Application, reason: str | None) -> Application:
    """under_review -> info_requested with the question for the maker."""
    _check_reviewer(actor, application)
    text = _require_reason(reason)
    _transition(
        application,
        actor,
        {ApplicationStatus.under_review},
        ApplicationStatus.info_requested,
        "request_information",
        text,
    )
    return application


def answer_information(actor: User, application: Application, message: str | None) -> Application:
    """info_requested -> under_review with the maker's answer (edits made meanwhile are re-checked)."""
    text = (message or "").strip()
    if not text:
        raise _invalid("message", "write an answer")
    if application.status == ApplicationStatus.info_requested:
        _compute(application, strict=True)
    _transition(
        application,
        actor,
        {ApplicationStatus.info_requested},
        ApplicationStatus.under_review,
        "answer",
        text,
        kind="answer",
    )
    return application


def reject_application(actor: User, application: Application, reason: str | None) -> Application:
    """under_review -> rejected with the reason."""
    _check_reviewer(actor, application)
    text = _require_reason(reason)
    _transition(
        application, actor, {ApplicationStatus.under_review}, ApplicationStatus.rejected, "reject", text
    )
    application.decided_at = utcnow()
    application.decision_reason = text
    application.reviewer_id = actor.id
    return application


def approve_application(
    actor: User, application: Application, reason: str | None = None, issued_on: date | None = None
) -> Certificate:
    """under_review -> approved, issuing the certificate (grade by 第三条 / GX label).

    A model that does not pass (below 85 %) cannot be approved: 409 naming the grade.
    """
    _check_reviewer(actor, application)
    if application.status != ApplicationStatus.under_review:
        raise Conflict(
            f"cannot approve application {application.id} in status {application.status} (must be under_review)",
            {"status": [f"is {application.status}"]},
        )
    _compute(application, strict=True)
    if application.grade is None:
        raise Conflict(
            "the model does not meet 85 % of the baseline and cannot be certified",
            {"grade": ["not certifiable"]},
        )
    text = (reason or "").strip() or "approved"
    _transition(
        application, actor, {ApplicationStatus.under_review}, ApplicationStatus.approved, "approve", text
    )
    application.decided_at = utcnow()
    application.decision_reason = text
    application.reviewer_id = actor.id
    return issue_certificate(actor, application, issued_on or date.today())


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February -> 28 February
        return day.replace(year=day.year + years, day=28)


def next_certificate_number(year: int) -> str:
    """GX-<year>-<serial>: the next serial within the year of issue."""
    prefix = f"{CERTIFICATE_NUMBER.prefix}-{year}-"
    last = db.session.scalar(
        select(func.max(Certificate.number)).where(Certificate.number.like(f"{prefix}%"))
    )
    serial = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{serial:0{CERTIFICATE_NUMBER.digits}d}"


def issue_certificate(
    actor: User | None,
    application: Application,
    issued_on: date,
    valid_years: int = CERTIFICATE_VALIDITY.years,
) -> Certificate:
    certificate = Certificate(
        number=next_certificate_number(issued_on.year),
        machine_model_id=application.machine_model_id,
        maker_id=application.maker_id,
        application_id=application.id,
        baseline_set_id=application.baseline_set_id,
        baseline_class_id=application.baseline_class_id,
        grade=application.grade,
        evaluation_value=application.evaluation_value,
        evaluation_unit=application.evaluation_unit,
        achievement=application.achievement,
        co2e_achievement=application.co2e_achievement,
        issued_on=issued_on,
        valid_until=add_years(issued_on, valid_years),
        status=CertificateStatus.active,
    )
    db.session.add(certificate)
    db.session.flush()
    db.session.add(
        CertificateStatusChange(
            certificate_id=certificate.id,
            status=CertificateStatus.active,
            effective_from=issued_on,
            reason="issued",
            actor_id=actor.id if actor else None,
        )
    )
    record_event(
        "certificate.issue",
        certificate,
        actor=actor,
        subject_organisation_id=certificate.maker_id,
        after={
            "number": certificate.number,
            "grade": certificate.grade,
            "issued_on": issued_on,
            "valid_until": certificate.valid_until,
            "application_id": application.id,
        },
    )
    return certificate


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------

PDF_MAGIC = b"%PDF-"


def store_document(
    actor: User, application: Application, kind: str, filename: str, stream: IO[bytes]
) -> ApplicationDocument:
    """Store an uploaded PDF under UPLOAD_DIR with a generated name and its SHA-256.

    Checks: the application is editable by the maker, kind known, size ≤ MAX_DOCUMENT_BYTES, content
    starts with %PDF- (magic bytes; the user's filename and content type are not trusted, and the
    filename is never used as a path)."""
    if application.status not in MAKER_EDITABLE:
        raise Conflict(
            f"application {application.id} is {application.status}; documents can be added to "
            "drafts and during an information request",
            {"status": [f"is {application.status}"]},
        )
    try:
        document_kind = DocumentKind(kind or "test_report")
    except ValueError:
        raise _invalid("kind", f"unknown document kind {kind!r}") from None
    limit = int(current_app.config["MAX_DOCUMENT_BYTES"])
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise _invalid("file", f"the file is larger than {limit} bytes")
    if not content:
        raise _invalid("file", "the file is empty")
    if not content.startswith(PDF_MAGIC):
        raise _invalid("file", "the file is not a PDF")
    digest = hashlib.sha256(content).hexdigest()
    stored_name = f"{secrets.token_hex(16)}.pdf"
    folder = Path(current_app.config["UPLOAD_DIR"]) / "certification"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored_name).write_bytes(content)
    display_name = Path(str(filename or "document.pdf").replace("\\", "/")).name[:255] or "document.pdf"
    document = ApplicationDocument(
        application_id=application.id,
        maker_id=application.maker_id,
        kind=document_kind,
        original_filename=display_name,
        stored_name=stored_name,
        sha256=digest,
        size_bytes=len(content),
        uploaded_by_id=actor.id,
    )
    db.session.add(document)
    db.session.flush()
    db.session.expire(application, ["documents"])
    _timeline(application, actor, "document", f"{document_kind}: {display_name} (sha256 {digest[:12]}…)")
    record_event(
        "application.document",
        document,
        actor=actor,
        subject_organisation_id=application.maker_id,
        after={
            "kind": str(document_kind),
            "sha256": digest,
            "size_bytes": len(content),
            "filename": display_name,
            "application_id": application.id,
        },
    )
    return document


def document_path(document: ApplicationDocument) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "certification" / document.stored_name


def document_response(document: ApplicationDocument) -> Response:
    """The stored PDF as a download under a generated name (never the uploaded filename)."""
    response = Response(document_path(document).read_bytes(), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="document-{document.id}.pdf"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------------------------
# Certificate lifecycle
# --------------------------------------------------------------------------------------------


def certificate_status_on(certificate: Certificate, on: date) -> CertificateStatus | None:
    """The status on day `on` from the status history, with expiry at valid_until applied on read
    (so an un-run expiry job never shows an expired certificate as active). None before issue."""
    current: CertificateStatus | None = None
    for change in sorted(certificate.status_changes, key=lambda c: (c.effective_from, c.id)):
        if change.effective_from <= on:
            current = CertificateStatus(change.status)
    if current in (CertificateStatus.active, CertificateStatus.suspended) and on >= certificate.valid_until:
        return CertificateStatus.expired
    return current


def status_expression(on: date) -> ColumnElement[str]:
    """SQL for the status on day `on` (same rule as `certificate_status_on`), usable in filters."""
    change = aliased(CertificateStatusChange)
    latest = (
        select(change.status)
        .where(change.certificate_id == Certificate.id, change.effective_from <= on)
        .order_by(change.effective_from.desc(), change.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return case(
        (and_(latest.in_(["active", "suspended"]), Certificate.valid_until <= on), "expired"),
        else_=latest,
    )


def _record_status(
    actor: User | None,
    certificate: Certificate,
    status: CertificateStatus,
    effective_from: date,
    reason: str,
    action: str,
    today: date | None = None,
) -> Certificate:
    before = str(certificate.status)
    db.session.add(
        CertificateStatusChange(
            certificate_id=certificate.id,
            status=status,
            effective_from=effective_from,
            reason=reason,
            actor_id=actor.id if actor else None,
        )
    )
    db.session.flush()
    db.session.expire(certificate, ["status_changes"])
    certificate.status = certificate_status_on(certificate, today or date.today()) or status
    record_event(
        f"certificate.{action}",
        certificate,
        actor=actor,
        subject_organisation_id=certificate.maker_id,
        reason=reason,
        before={"status": before},
        after={
            "status": str(status),
            "effective_from": effective_from,
            "stored_status": str(certificate.status),
        },
    )
    return certificate


def _check_effective(certificate: Certificate, effective_from: date | None) -> date:
    if effective_from is None:
        raise _invalid("effective_from", "effective_from is required")
    if effective_from < certificate.issued_on:
        raise _invalid("effective_from", f"effective_from is before the issue date {certificate.issued_on}")
    last = max((c.effective_from for c in certificate.status_changes), default=certificate.issued_on)
    if effective_from < last:
        raise _invalid("effective_from", f"effective_from may not precede the last status change ({last})")
    return effective_from


def suspend_certificate(
    actor: User,
    certificate: Certificate,
    effective_from: date | None,
    reason: str | None,
    today: date | None = None,
) -> Certificate:
    """Suspend from `effective_from` (nothing before that date changes). Only an active certificate."""
    text = _require_reason(reason)
    day = _check_effective(certificate, effective_from)
    status = certificate_status_on(certificate, day)
    if status != CertificateStatus.active:
        raise Conflict(
            f"certificate {certificate.number} is {status} on {day}; only an active certificate can be suspended",
            {"status": [f"is {status}"]},
        )
    return _record_status(actor, certificate, CertificateStatus.suspended, day, text, "suspend", today)


def reinstate_certificate(
    actor: User,
    certificate: Certificate,
    effective_from: date | None,
    reason: str | None,
    today: date | None = None,
) -> Certificate:
    """Lift a suspension from `effective_from`."""
    text = _require_reason(reason)
    day = _check_effective(certificate, effective_from)
    status = certificate_status_on(certificate, day)
    if status != CertificateStatus.suspended:
        raise Conflict(
            f"certificate {certificate.number} is {status} on {day}; only a suspended certificate can be reinstated",
            {"status": [f"is {status}"]},
        )
    return _record_status(actor, certificate, CertificateStatus.active, day, text, "reinstate", today)


def revoke_certificate(
    actor: User,
    certificate: Certificate,
    effective_from: date | None,
    reason: str | None,
    today: date | None = None,
) -> Certificate:
    """Revoke from `effective_from` (never retroactively before it). Not an expired/revoked certificate."""
    text = _require_reason(reason)
    day = _check_effective(certificate, effective_from)
    status = certificate_status_on(certificate, day)
    if status not in (CertificateStatus.active, CertificateStatus.suspended):
        raise Conflict(
            f"certificate {certificate.number} is {status} on {day}; it cannot be revoked",
            {"status": [f"is {status}"]},
        )
    return _record_status(actor, certificate, CertificateStatus.revoked, day, text, "revoke", today)


def renew_certificate(
    actor: User,
    certificate: Certificate,
    renewed_on: date | None = None,
    reason: str | None = None,
    valid_years: int = CERTIFICATE_VALIDITY.years,
) -> Certificate:
    """Renewal: a new validity of `valid_years` from max(renewed_on, valid_until) for an active or
    expired certificate (not revoked/suspended). An expired certificate is active again from the
    renewal date only: the gap stays uncertified."""
    day = renewed_on or date.today()
    status = certificate_status_on(certificate, day)
    if status not in (CertificateStatus.active, CertificateStatus.expired):
        raise Conflict(
            f"certificate {certificate.number} is {status}; only active or expired certificates can be renewed",
            {"status": [f"is {status}"]},
        )
    previous = certificate.valid_until
    if status == CertificateStatus.expired:
        if not any(
            c.status == CertificateStatus.expired and c.effective_from == previous
            for c in certificate.status_changes
        ):
            db.session.add(
                CertificateStatusChange(
                    certificate_id=certificate.id,
                    status=CertificateStatus.expired,
                    effective_from=previous,
                    reason="validity ended",
                )
            )
        db.session.add(
            CertificateStatusChange(
                certificate_id=certificate.id,
                status=CertificateStatus.active,
                effective_from=day,
                reason="renewed",
                actor_id=actor.id if actor else None,
            )
        )
        new_until = add_years(day, valid_years)
    else:
        new_until = add_years(max(day, previous), valid_years)
    certificate.valid_until = new_until
    db.session.add(
        CertificateRenewal(
            certificate_id=certificate.id,
            renewed_on=day,
            previous_valid_until=previous,
            new_valid_until=new_until,
            reason=reason,
            actor_id=actor.id if actor else None,
        )
    )
    db.session.flush()
    db.session.expire(certificate, ["status_changes", "renewals"])
    certificate.status = CertificateStatus.active
    record_event(
        "certificate.renew",
        certificate,
        actor=actor,
        subject_organisation_id=certificate.maker_id,
        reason=reason,
        before={"valid_until": previous, "status": str(status)},
        after={"valid_until": new_until, "status": "active"},
    )
    return certificate


def expire_certificates(today: date) -> int:
    """Record expiry (at valid_until) for active/suspended certificates past their validity. Idempotent.

    Reads never depend on this job (`certificate_status_on`, `status_expression` apply expiry), it
    makes the history explicit and the stored status current."""
    stmt = select(Certificate).where(
        Certificate.valid_until <= today,
        Certificate.status.in_([CertificateStatus.active, CertificateStatus.suspended]),
    )
    count = 0
    for certificate in db.session.scalars(stmt):
        db.session.add(
            CertificateStatusChange(
                certificate_id=certificate.id,
                status=CertificateStatus.expired,
                effective_from=certificate.valid_until,
                reason="validity ended",
            )
        )
        before = str(certificate.status)
        certificate.status = CertificateStatus.expired
        record_event(
            "certificate.expire",
            certificate,
            actor=None,
            subject_organisation_id=certificate.maker_id,
            reason="validity ended",
            before={"status": before},
            after={"status": "expired", "effective_from": certificate.valid_until},
        )
        count += 1
    db.session.flush()
    return count


MINOR_KINDS = frozenset({ChangeKind.minor, ChangeKind.catalogue_name})


def file_type_change_notice(
    actor: User,
    certificate: Certificate,
    kind: str,
    description: str | None,
    changes: Mapping[str, Any] | None = None,
) -> TypeChangeNotice:
    """A maker notifies a change of a certified type. Minor changes (and added catalogue names) keep
    the certificate; a power-line (drive) or rated-power change needs a new application, so the
    notice is rejected with that reason and the certificate is unchanged."""
    try:
        change_kind = ChangeKind(kind)
    except ValueError:
        raise _invalid("kind", f"unknown change kind {kind!r}") from None
    text = (description or "").strip()
    if not text:
        raise _invalid("description", "describe the change")
    status = certificate_status_on(certificate, date.today())
    if status != CertificateStatus.active:
        raise Conflict(
            f"certificate {certificate.number} is {status}; notices are for active certificates",
            {"status": [f"is {status}"]},
        )
    payload = dict(changes or {})
    model = certificate.machine_model
    if change_kind in MINOR_KINDS:
        outcome, reason = NoticeOutcome.accepted, "minor change: the certificate remains valid"
        if change_kind == ChangeKind.catalogue_name:
            names = payload.get("catalogue_names") or []
            if isinstance(names, str):
                names = [n.strip() for n in names.split(",")]
            added = [
                str(n).strip()
                for n in names
                if str(n).strip() and str(n).strip() not in model.catalogue_names
            ]
            if added:
                model.catalogue_names = [*model.catalogue_names, *added]
                reason = "catalogue names added: " + ", ".join(added)
    else:
        outcome = NoticeOutcome.rejected
        reason = (
            "a power-line (drive) change requires a new application"
            if change_kind == ChangeKind.drive
            else "a rated-power change requires a new application"
        )
    notice = TypeChangeNotice(
        certificate_id=certificate.id,
        maker_id=certificate.maker_id,
        kind=change_kind,
        description=text,
        changes=payload,
        outcome=outcome,
        outcome_reason=reason,
        filed_by_id=actor.id,
    )
    db.session.add(notice)
    db.session.flush()
    record_event(
        "certificate.type_change",
        notice,
        actor=actor,
        subject_organisation_id=certificate.maker_id,
        reason=reason,
        after={"kind": str(change_kind), "outcome": str(outcome), "certificate": certificate.number},
    )
    return notice


# --------------------------------------------------------------------------------------------
# Public register, competition check, baseline review
# --------------------------------------------------------------------------------------------

REGISTER_SORTS = {
    "number": Certificate.number,
    "issued_on": Certificate.issued_on,
    "valid_until": Certificate.valid_until,
    "grade": Certificate.grade,
    "evaluation_value": Certificate.evaluation_value,
}


def register_query(filters: Mapping[str, Any], today: date | None = None) -> Select[Any]:
    """Certificates for the public register, filtered by category (code), class (id), drive, grade,
    maker (id or name part), status (on `today`, computed) and free text; sorted by `sort`."""
    day = today or date.today()
    status = status_expression(day)
    stmt = (
        select(Certificate)
        .join(MachineModel, MachineModel.id == Certificate.machine_model_id)
        .join(Category, Category.id == MachineModel.category_id)
        .join(Organisation, Organisation.id == Certificate.maker_id)
    )
    if filters.get("category"):
        stmt = stmt.where(Category.code == str(filters["category"]))
    if filters.get("class_id"):
        stmt = stmt.where(Certificate.baseline_class_id == int(filters["class_id"]))
    if filters.get("drive"):
        stmt = stmt.where(MachineModel.drive == str(filters["drive"]))
    if filters.get("grade"):
        stmt = stmt.where(Certificate.grade == str(filters["grade"]))
    if filters.get("baseline_set"):
        stmt = stmt.join(BaselineSet, BaselineSet.id == Certificate.baseline_set_id).where(
            BaselineSet.code == str(filters["baseline_set"])
        )
    maker = filters.get("maker")
    if maker:
        if str(maker).isdigit():
            stmt = stmt.where(Certificate.maker_id == int(maker))
        else:
            stmt = stmt.where(Organisation.name.ilike(f"%{maker}%"))
    if filters.get("status"):
        stmt = stmt.where(status == str(filters["status"]))
    if filters.get("q"):
        text = f"%{filters['q']}%"
        stmt = stmt.where(or_(Certificate.number.ilike(text), MachineModel.type_designation.ilike(text)))
    sort = str(filters.get("sort") or "-issued_on")
    column = REGISTER_SORTS.get(sort.lstrip("-"), Certificate.issued_on)
    stmt = stmt.order_by(column.desc() if sort.startswith("-") else column.asc(), Certificate.id.desc())
    return stmt


def register_rows(certificates: Iterable[Certificate], today: date | None = None) -> list[dict[str, Any]]:
    """Flat public rows (open data): one per certificate, status computed on `today`."""
    day = today or date.today()
    rows = []
    for cert in certificates:
        model = cert.machine_model
        klass = cert.baseline_class
        rows.append(
            {
                "number": cert.number,
                "status": str(certificate_status_on(cert, day) or cert.status),
                "grade": cert.grade,
                "maker": cert.maker.name,
                "maker_id": cert.maker_id,
                "type_designation": model.type_designation,
                "catalogue_names": ", ".join(model.catalogue_names or []),
                "category": model.category.code,
                "drive": str(model.drive),
                "rated_power_kw": _num(model.rated_power_kw),
                "size_value": _num(model.size_value),
                "size_unit": model.category.size_unit,
                "class_id": cert.baseline_class_id,
                "size_class": klass.label if klass else None,
                "baseline_set": cert.baseline_set.code,
                "baseline_value": _num(klass.baseline_value) if klass else None,
                "evaluation_value": _num(cert.evaluation_value),
                "evaluation_unit": cert.evaluation_unit,
                "achievement": _num(cert.achievement),
                "co2e_achievement": _num(cert.co2e_achievement),
                "factors_used": _factor_text(cert),
                "issued_on": cert.issued_on.isoformat(),
                "valid_until": cert.valid_until.isoformat(),
            }
        )
    return rows


def _factor_text(cert: Certificate) -> str | None:
    app = cert.application
    if app is None or cert.co2e_achievement is None:
        return None
    return (
        f"{app.diesel_factor_label} = {_num(app.diesel_factor_value)} {app.diesel_factor_unit}; "
        f"{app.grid_factor_label} = {_num(app.grid_factor_value)} {app.grid_factor_unit}"
    )


def register_frame(filters: Mapping[str, Any], today: date | None = None) -> pd.DataFrame:
    stmt = register_query(filters, today).options(
        selectinload(Certificate.status_changes),
        selectinload(Certificate.machine_model).selectinload(MachineModel.category),
        selectinload(Certificate.baseline_class),
        selectinload(Certificate.baseline_set),
        selectinload(Certificate.application),
        selectinload(Certificate.maker),
    )
    rows = register_rows(db.session.scalars(stmt), today)
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else ["number"])


def _active_rows(today: date, baseline_set_id: int | None = None) -> list[Any]:
    stmt = (
        select(
            Category.code,
            Certificate.baseline_class_id,
            Certificate.maker_id,
            Certificate.evaluation_value,
            MachineModel.drive,
            Certificate.baseline_set_id,
        )
        .join(MachineModel, MachineModel.id == Certificate.machine_model_id)
        .join(Category, Category.id == MachineModel.category_id)
        .where(status_expression(today) == "active", Certificate.baseline_class_id.is_not(None))
    )
    if baseline_set_id is not None:
        stmt = stmt.where(Certificate.baseline_set_id == baseline_set_id)
    return list(db.session.execute(stmt))


def _class_labels() -> dict[int, str]:
    return {
        c.id: f"{c.baseline_set.code} {c.category.code} {c.label}"
        for c in db.session.scalars(select(BaselineClass))
    }


def competition_table(today: date | None = None) -> pd.DataFrame:
    """Per category/class: distinct makers with ACTIVE certificates and whether it is designatable
    (≥ 3 makers, `gxmachinery.rules.COMPETITION_RULE`). Classes with no active certificate show 0."""
    day = today or date.today()
    rows = _active_rows(day)
    frame = pd.DataFrame([(r[0], r[1], r[2]) for r in rows], columns=["category", "class_id", "maker_id"])
    result = (
        competition(frame)
        if not frame.empty
        else pd.DataFrame({"category": [], "class_id": [], "makers": [], "designatable": []})
    )
    classes = list(db.session.scalars(select(BaselineClass).order_by(BaselineClass.id)))
    present = {(str(r["category"]), int(r["class_id"])) for r in result.to_dict("records")}
    extra = [
        {"category": c.category.code, "class_id": c.id, "makers": 0, "designatable": False}
        for c in classes
        if (c.category.code, c.id) not in present
    ]
    full = pd.concat([result, pd.DataFrame(extra)], ignore_index=True) if extra else result
    labels = _class_labels()
    full["class_id"] = full["class_id"].astype("int64")
    full["makers"] = full["makers"].astype("int64")
    full["designatable"] = full["designatable"].astype(bool)
    full["size_class"] = full["class_id"].map(labels)
    return full.sort_values(["category", "class_id"]).reset_index(drop=True)


def baseline_review_table(
    baseline_set: BaselineSet | None = None,
    today: date | None = None,
    drives: Iterable[str] = tuple(DRIVE_PATHS.fuel_drives),
) -> pd.DataFrame:
    """Per class: the distribution of evaluation values of active certificates (fuel drives: L/h is
    comparable) and proposals top-runner / p30 / p50 with the models and makers each would pass."""
    day = today or date.today()
    wanted = set(drives)
    rows = [r for r in _active_rows(day, baseline_set.id if baseline_set else None) if str(r[4]) in wanted]
    frame = pd.DataFrame(
        [(r[1], r[3], r[2]) for r in rows], columns=["class_id", "evaluation_value", "maker_id"]
    )
    try:
        result = review_baselines(frame)
    except CertificationRuleError as exc:
        raise _rule_error(exc) from None
    labels = _class_labels()
    baselines = {c.id: float(c.baseline_value) for c in db.session.scalars(select(BaselineClass))}
    if not result.empty:
        result["class_id"] = result["class_id"].astype("int64")
        result["size_class"] = result["class_id"].map(labels)
        result["current_baseline"] = result["class_id"].map(baselines)
    else:
        result["size_class"] = []
        result["current_baseline"] = []
    return result


def class_distribution(
    baseline_set: BaselineSet | None = None, today: date | None = None
) -> dict[int, list[float]]:
    """Evaluation values of active fuel-drive certificates per class (for the review chart)."""
    day = today or date.today()
    out: dict[int, list[float]] = defaultdict(list)
    for row in _active_rows(day, baseline_set.id if baseline_set else None):
        if str(row[4]) in DRIVE_PATHS.fuel_drives and row[3] is not None:
            out[int(row[1])].append(float(row[3]))
    return {k: sorted(v) for k, v in sorted(out.items())}


def review_queue(filters: Mapping[str, Any], actor: User) -> Select[Any]:
    """Applications waiting for a certifier (submitted, under review, info requested by default),
    excluding the certifier's own organisation's applications."""
    statuses = filters.get("status")
    stmt = select(Application).join(MachineModel, MachineModel.id == Application.machine_model_id)
    if statuses:
        stmt = stmt.where(Application.status == str(statuses))
    else:
        stmt = stmt.where(
            Application.status.in_(
                [
                    ApplicationStatus.submitted,
                    ApplicationStatus.under_review,
                    ApplicationStatus.info_requested,
                ]
            )
        )
    if filters.get("category"):
        stmt = stmt.join(Category, Category.id == MachineModel.category_id).where(
            Category.code == filters["category"]
        )
    if filters.get("drive"):
        stmt = stmt.where(MachineModel.drive == str(filters["drive"]))
    if not actor.is_admin:
        stmt = stmt.where(Application.maker_id != actor.organisation_id)
    return stmt.order_by(Application.submitted_at.asc().nulls_last(), Application.id)


def get_application_for(actor: User, application_id: int) -> Application:
    """Makers see their own organisation's applications; certifiers and admins see all non-drafts
    (drafts are the maker's private work). Others -> 404."""
    application = db.session.get(Application, application_id)
    if application is None:
        raise NotFound(f"Application {application_id} not found.")
    if actor.is_admin or application.maker_id == actor.organisation_id:
        return application
    if actor.has_role("certifier") and application.status != ApplicationStatus.draft:
        return application
    raise NotFound(f"Application {application_id} not found.")


def get_certificate(ref: int | str) -> Certificate:
    if isinstance(ref, int) or str(ref).isdigit():
        cert = db.session.get(Certificate, int(ref))
    else:
        cert = db.session.scalar(select(Certificate).where(Certificate.number == str(ref)))
    if cert is None:
        raise NotFound(f"Certificate {ref} not found.")
    return cert


def valid_until_default(issued_on: date) -> date:
    return add_years(issued_on, CERTIFICATE_VALIDITY.years)
