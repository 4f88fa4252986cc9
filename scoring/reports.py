"""Evaluation report: per-bidder breakdown rows, tie-break explanations, SVG chart, CSV/XLSX.

Rows are built only from the stored evaluation (snapshot + result), so the report shows exactly
what was decided. ``scope`` limits what a viewer gets: ``full`` (agency, committee), ``own`` (a
bidder: its own row only), ``public`` (after publication: per-bidder technical points, price,
method value and rank, like Japan's 入札調書; no member-level detail).
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pandas as pd

from gxmachinery.charts import svg_stacked_barh_chart
from gxmachinery.exports import to_csv_bytes as to_csv_bytes  # re-exported for views
from scoring.models import Evaluation, Tender

PUBLIC_KEYS = (
    "position",
    "bidder",
    "price",
    "evaluated_price",
    "technical_points",
    "carbon_score",
    "method_value",
    "eligible",
    "reasons",
)


def _mean(values: list[str]) -> str | None:
    if not values:
        return None
    total = sum((Decimal(v) for v in values), Decimal(0)) / len(values)
    return format(total.quantize(Decimal("0.01")), "f")


def tie_break_text(record: dict[str, Any]) -> str:
    """One sentence per tie: who tied on what value, each rule applied and the final order."""
    parts = [f"tied at {record['method_value']}: {', '.join(record['bidder_ids'])}"]
    for step in record["steps"]:
        values = ", ".join(f"{k}={v[:12]}" for k, v in step["values"].items())
        parts.append(f"{step['rule']} ({step['source']}): {values}")
    parts.append("order " + " > ".join(record["order"]))
    if record.get("draw_seed") is not None:
        parts.append(f"draw seed {record['draw_seed']}")
    return "; ".join(parts)


def report_rows(
    tender: Tender, evaluation: Evaluation, *, scope: str = "full", own_organisation_id: int | None = None
) -> list[dict[str, Any]]:
    """One dict per bidder in result order. ``scope``: full / own / public (see module doc)."""
    snap, result = evaluation.snapshot, evaluation.result
    criteria = snap["inputs"]["criteria"]
    members = snap["inputs"]["member_scores"]
    ties = {b: tie_break_text(t) for t in result["tie_breaks"] for b in t["bidder_ids"]}
    rows = []
    for r in result["bidders"]:
        key = r["bidder_id"]
        who = snap["bidders"][key]
        if scope == "own" and who["organisation_id"] != own_organisation_id:
            continue
        c = snap["carbon"][key]["breakdown"]
        per_criterion = {}
        for crit in criteria:
            if crit["is_carbon"]:
                per_criterion[crit["code"]] = r["carbon_points"]
            else:
                per_criterion[crit["code"]] = _mean(
                    [members[m][key][crit["code"]] for m in members if key in members[m]]
                )
        components = r["components"]
        technical = components.get("technical_points") or r["total"]
        row: dict[str, Any] = {
            "bidder_key": key,
            "bid_id": who["bid_id"],
            "organisation_id": who["organisation_id"],
            "bidder": who["name"],
            "position": r["position"],
            "winner": r["winner"],
            "price": r["price"],
            "evaluated_price": r["evaluated_price"],
            "criteria": per_criterion,
            "total": r["total"],
            "technical_points": technical,
            "carbon_score": r["carbon_score"],
            "carbon_points": r["carbon_points"],
            "s_commit": c["s_commit"],
            "s_history": c["s_history"],
            "fulfilment": c["fulfilment"],
            "history_used": c["history_used"],
            "method_value": r["method_value"],
            "rank_sum": r["rank_sum"],
            "first_places": r["first_places"],
            "components": components,
            "member_totals": r["member_totals"],
            "eligible": r["eligible"],
            "reasons": r["reasons"],
            "tie_break": r["tie_break"],
            "tie_break_text": ties.get(key),
        }
        if scope == "public":
            row = {k: row[k] for k in PUBLIC_KEYS}
        elif scope == "own":
            # Before publication a bidder must not learn anything about the others: tie-break
            # texts quote their sums and meat_weighted's lowest price is another bid's price.
            row["tie_break_text"] = None
            row["components"] = {k: v for k, v in components.items() if k != "lowest_price"}
        rows.append(row)
    return rows


def flat_frame(tender: Tender, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a flat table for CSV/XLSX (criteria as columns)."""
    flat = []
    for row in rows:
        out = {k: v for k, v in row.items() if not isinstance(v, dict | list)}
        for code, pts in (row.get("criteria") or {}).items():
            out[f"criterion:{code}"] = pts
        out["reasons"] = "; ".join(row.get("reasons") or [])
        flat.append(out)
    return pd.DataFrame(flat)


def to_xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()


def report_xlsx(tender: Tender, evaluation: Evaluation, rows: list[dict[str, Any]]) -> bytes:
    """Workbook: Ranking, Tie-breaks, Parameters."""
    ties = pd.DataFrame(
        [{"tie": tie_break_text(t)} for t in evaluation.result["tie_breaks"]] or [{"tie": ""}]
    )
    params = {**evaluation.result["params"], **evaluation.snapshot["carbon_params"]}
    params.update(
        method=evaluation.method,
        as_of=evaluation.snapshot["as_of"],
        inputs_sha256=evaluation.inputs_sha256,
    )
    frame_params = pd.DataFrame([{"parameter": k, "value": str(v)} for k, v in params.items()])
    return to_xlsx_bytes(
        {"Ranking": flat_frame(tender, rows), "Tie-breaks": ties, "Parameters": frame_params}
    )


def report_chart_svg(rows: list[dict[str, Any]], value_label: str) -> str:
    """Horizontal bars of each bidder's technical points with the carbon part shaded."""
    labels = [str(r["bidder"])[:40] for r in rows]
    carbon = [float(r.get("carbon_points") or 0) for r in rows]
    other = [float(r.get("technical_points") or 0) - c for r, c in zip(rows, carbon, strict=True)]
    return svg_stacked_barh_chart(
        labels, {"committee points": other, "carbon points": carbon}, title=value_label, xlabel="points"
    )
