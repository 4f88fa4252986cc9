"""Generic table exports: DataFrame -> CSV (UTF-8 with BOM so Excel opens Chinese right) / XLSX
bytes / a Flask download response."""

from __future__ import annotations

import io
import re

import pandas as pd
from flask import Response

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV encoded utf-8-sig (BOM), no index."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(frame: pd.DataFrame, sheet_name: str = "data") -> bytes:
    """One-sheet XLSX (xlsxwriter), no index; the sheet name is cut to Excel's 31 characters."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        frame.to_excel(writer, sheet_name=sheet_name[:31] or "data", index=False)
    return buffer.getvalue()


def _safe_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "export"


def download_response(frame: pd.DataFrame, basename: str, fmt: str = "csv") -> Response:
    """A download of `frame` as `<basename>.csv` or `<basename>.xlsx` (attachment)."""
    name = _safe_filename(basename)
    if fmt == "xlsx":
        body, mimetype, filename = to_xlsx_bytes(frame, name), XLSX_MIMETYPE, f"{name}.xlsx"
    elif fmt == "csv":
        body, mimetype, filename = to_csv_bytes(frame), CSV_MIMETYPE, f"{name}.csv"
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
