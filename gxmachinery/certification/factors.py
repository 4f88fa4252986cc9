"""Default emission factors for the GX CO2-equivalent achievement (data with sources).

The registry domain owns the EmissionFactor table; certification must not import it (dependencies
point registry -> gxmachinery). So an application stores the factor values and labels it used,
defaulting to these records; a certifier or admin may override them per application.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class DefaultFactor:
    key: str
    label: str
    value: Decimal
    unit: str
    source: str


GRID_FACTOR_TW_2023 = DefaultFactor(
    key="grid",
    label="Taiwan grid 2023 (經濟部能源署)",
    value=Decimal("0.494"),
    unit="kgCO2e/kWh",
    source="經濟部能源署 112年度(2023) 電力排碳係數 0.494 kgCO2e/kWh (2017 0.554 … 2022 0.495); DESIGN.md",
)

DIESEL_FACTOR_JP = DefaultFactor(
    key="diesel",
    label="Diesel 2.58 kgCO2/L (温対法施行令)",
    value=Decimal("2.58"),
    unit="kgCO2/L",
    source="地球温暖化対策の推進に関する法律施行令 別表第一: 軽油 2.58 kgCO2/L; DESIGN.md",
)

DEFAULT_FACTORS: dict[str, DefaultFactor] = {
    "diesel": DIESEL_FACTOR_JP,
    "grid": GRID_FACTOR_TW_2023,
}


@dataclass(frozen=True)
class ValidityRule:
    years: int
    source: str


CERTIFICATE_VALIDITY = ValidityRule(
    years=3,
    source="Taiwan eco-label practice: certificates valid 3 years, renewable (seeds/001); DESIGN.md Certificate",
)


@dataclass(frozen=True)
class NumberFormat:
    prefix: str
    digits: int
    source: str


CERTIFICATE_NUMBER = NumberFormat(
    prefix="GX", digits=6, source="project convention: GX-<year of issue>-<serial within the year>"
)
