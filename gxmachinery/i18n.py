"""Translation catalogs live beside each package (gxmachinery, registry, scoring)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("gxmachinery", "registry", "scoring")


def po_files() -> list[Path]:
    return sorted(
        p for pkg in PACKAGES for p in (ROOT / pkg / "translations").glob("*/LC_MESSAGES/messages.po")
    )


def compile_catalogs() -> list[Path]:
    written = []
    for po_path in po_files():
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as fh:
            write_mo(fh, catalog)
        written.append(mo_path)
    return written
