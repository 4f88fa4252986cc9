"""ISO 15143-3 (AEMP 2.0 telematics) fleet snapshots -> per-period usage deltas (pure).

Input forms (DESIGN.md "Interfaces": imports of ISO 15143-3 / AEMP 2.0 fleet snapshots):

XML (ISO 15143-3:2016 Fleet snapshot; the default namespace varies by publisher, e.g.
``http://standards.iso.org/iso/15143/-3`` or JCMA's ``.../ISO/15143/-3/20190501``, or none —
elements are matched by local name, so any namespace or none is accepted)::

    <Fleet version="1" snapshotTime="2024-05-01T00:00:00Z">
      <Equipment>
        <EquipmentHeader><OEMName/><Model/><EquipmentID/><SerialNumber/><PIN/></EquipmentHeader>
        <CumulativeOperatingHours datetime="2024-05-01T08:00:00Z"><Hour>1234.5</Hour>
        </CumulativeOperatingHours>
        <FuelUsed datetime="..."><FuelUnits>litre</FuelUnits><FuelConsumed>5678</FuelConsumed>
        </FuelUsed>
        <Extension vendor="gx">
          <CumulativeEnergyUsed datetime="..."><EnergyUnits>kWh</EnergyUnits>
            <EnergyConsumed>910.5</EnergyConsumed></CumulativeEnergyUsed>
        </Extension>
      </Equipment>
    </Fleet>

A reading's time is its ``datetime`` attribute, or a ``<datetime>`` child (some OEMs, e.g.
Takeuchi, send it so), else the Fleet ``snapshotTime``.

JSON (AEMP 2.0 JSON: same element names as keys, ``datetime`` as a key of each reading)::

    {"Fleet": {"snapshotTime": "...", "Equipment": [
      {"EquipmentHeader": {"OEMName": "...", "PIN": "..."},
       "CumulativeOperatingHours": {"datetime": "...", "Hour": 1234.5},
       "FuelUsed": {"datetime": "...", "FuelUnits": "litre", "FuelConsumed": 5678},
       "Extension": {"vendor": "gx", "CumulativeEnergyUsed":
           {"datetime": "...", "EnergyUnits": "kWh", "EnergyConsumed": 910.5}}}]}}

``{"Equipment": [...]}`` without the Fleet wrapper and a list of such pages are accepted too.
JSON keys are matched case-insensitively.

**Vendor extension for electricity (defined by this system).** ISO 15143-3 has no cumulative
electric energy element, so battery/cable-electric machines report kWh in
``Extension[vendor="gx"]/CumulativeEnergyUsed`` with ``EnergyUnits`` (kWh; Wh and MWh are
converted) and ``EnergyConsumed`` (cumulative, like FuelConsumed). Extensions of other vendors
are ignored.

Units: FuelUnits litre (litre/liter/l) or gallon (US gallon, 3.785411784 L — AEMP is a US
standard). Readings are kept as ``Decimal`` so deltas are exact decimal differences of the
values sent (they are stored in Numeric columns).

Safety and memory: XML is parsed incrementally with ``xml.etree.ElementTree.XMLPullParser`` and
each ``Equipment`` element is dropped after it is read, so memory stays bounded by one
equipment element. Documents with a DTD (``<!DOCTYPE``) or entity declaration (``<!ENTITY``)
are refused before parsing (defusedxml is not available). JSON pages are read whole, limited to
:data:`MAX_JSON_BYTES`.

Then :func:`to_period_deltas` turns cumulative readings into per-period deltas
(runtime_h = Δhours, fuel_litres = Δfuel, kwh = Δenergy); a reading that goes down is an error
naming the equipment and datetime, never a silent negative.
"""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO, cast

CHUNK_BYTES = 64 * 1024
MAX_JSON_BYTES = 64 * 1024 * 1024  # AEMP pages hold ~100 machines; 64 MiB is far beyond that
GX_VENDOR = "gx"

#: Conversion of FuelUnits values to litres (US gallon: NIST SP 811, 1 gal = 3.785411784 L).
FUEL_UNIT_TO_LITRES: Mapping[str, Decimal] = {
    "litre": Decimal(1),
    "liter": Decimal(1),
    "litres": Decimal(1),
    "liters": Decimal(1),
    "l": Decimal(1),
    "gallon": Decimal("3.785411784"),
    "gallons": Decimal("3.785411784"),
    "gal": Decimal("3.785411784"),
    "us gallon": Decimal("3.785411784"),
}
#: Conversion of EnergyUnits values (gx extension) to kWh.
ENERGY_UNIT_TO_KWH: Mapping[str, Decimal] = {
    "kwh": Decimal(1),
    "kilowatt hour": Decimal(1),
    "kilowatthour": Decimal(1),
    "wh": Decimal("0.001"),
    "mwh": Decimal(1000),
}

_FORBIDDEN_MARKUP = ("<!doctype", "<!entity")
_FORBIDDEN_BYTES = tuple(
    token.encode(encoding) for token in _FORBIDDEN_MARKUP for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_OVERLAP = max(len(token) for token in _FORBIDDEN_BYTES) - 1

Source = bytes | str | Path | BinaryIO


class SnapshotFormatError(ValueError):
    """The snapshot document is malformed or not an ISO 15143-3 fleet snapshot."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.message = message
        self.line = line


class ReadingSequenceError(ValueError):
    """Cumulative readings of one machine are inconsistent (e.g. a reading went down)."""

    def __init__(self, equipment: str, at: datetime, message: str) -> None:
        super().__init__(f"equipment {equipment} at {at.isoformat()}: {message}")
        self.equipment = equipment
        self.at = at


@dataclass(frozen=True)
class EquipmentSnapshot:
    """Cumulative readings of one machine at one time (values already in L and kWh).

    ``equipment_key`` identifies the machine: PIN, else serial number, else EquipmentID.
    ``datetime`` is the latest datetime among the readings present (UTC).
    """

    equipment_key: str
    pin: str | None
    serial_number: str | None
    equipment_id: str | None
    oem_name: str | None
    model: str | None
    datetime: datetime
    cumulative_hours: Decimal | None
    cumulative_fuel_litres: Decimal | None
    cumulative_kwh: Decimal | None


@dataclass(frozen=True)
class PeriodDelta:
    """Usage of one machine between two snapshots: (period_start, period_end]."""

    equipment_key: str
    pin: str | None
    serial_number: str | None
    period_start: datetime
    period_end: datetime
    runtime_h: Decimal | None
    fuel_litres: Decimal | None
    kwh: Decimal | None

    @property
    def source_reference(self) -> str:
        """Idempotency key for the imported usage log (DESIGN.md UsageLog source reference)."""
        return f"iso15143:{self.equipment_key}:{self.period_end.isoformat()}"


# --------------------------------------------------------------------------------------------
# Shared: readings -> snapshot
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reading:
    value: Any
    unit: str | None
    at: str | None


def _parse_datetime(text: Any, where: str) -> datetime:
    if not isinstance(text, str) or not text.strip():
        raise SnapshotFormatError(f"{where}: missing or invalid datetime {text!r}")
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SnapshotFormatError(f"{where}: invalid datetime {text!r}") from None
    # AEMP timestamps are UTC ("Z"); a timestamp without offset is taken as UTC.
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool):
        raise SnapshotFormatError(f"{where}: expected a number, got {value!r}")
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise SnapshotFormatError(f"{where}: expected a number, got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise SnapshotFormatError(f"{where}: cumulative value must be a finite number ≥ 0")
    return number


def _factor(unit: str | None, table: Mapping[str, Decimal], where: str) -> Decimal:
    if unit is None or not str(unit).strip():
        raise SnapshotFormatError(f"{where}: unit missing")
    factor = table.get(str(unit).strip().casefold())
    if factor is None:
        raise SnapshotFormatError(f"{where}: unknown unit {unit!r}")
    return factor


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _build_snapshot(
    header: Mapping[str, Any],
    hours: _Reading | None,
    fuel: _Reading | None,
    energy: _Reading | None,
    fleet_time: str | None,
    position: int,
) -> EquipmentSnapshot | None:
    pin = _clean(header.get("PIN"))
    serial = _clean(header.get("SerialNumber"))
    equipment_id = _clean(header.get("EquipmentID"))
    key = pin or serial or equipment_id
    label = key or f"#{position}"
    if hours is None and fuel is None and energy is None:
        return None  # a header-only entry (machine without telematics data) says nothing
    if key is None:
        raise SnapshotFormatError(f"equipment {label}: no PIN, SerialNumber or EquipmentID")

    times = []
    cumulative_hours = fuel_litres = kwh = None
    if hours is not None:
        where = f"equipment {label} CumulativeOperatingHours"
        cumulative_hours = _parse_decimal(hours.value, where)
        times.append(_parse_datetime(hours.at or fleet_time, where))
    if fuel is not None:
        where = f"equipment {label} FuelUsed"
        factor = _factor(fuel.unit, FUEL_UNIT_TO_LITRES, where)
        fuel_litres = _parse_decimal(fuel.value, where) * factor
        times.append(_parse_datetime(fuel.at or fleet_time, where))
    if energy is not None:
        where = f"equipment {label} CumulativeEnergyUsed"
        factor = _factor(energy.unit, ENERGY_UNIT_TO_KWH, where)
        kwh = _parse_decimal(energy.value, where) * factor
        times.append(_parse_datetime(energy.at or fleet_time, where))

    return EquipmentSnapshot(
        equipment_key=key,
        pin=pin,
        serial_number=serial,
        equipment_id=equipment_id,
        oem_name=_clean(header.get("OEMName")),
        model=_clean(header.get("Model")),
        datetime=max(times),
        cumulative_hours=cumulative_hours,
        cumulative_fuel_litres=fuel_litres,
        cumulative_kwh=kwh,
    )


def group_by_equipment(
    snapshots: Iterable[EquipmentSnapshot],
) -> dict[str, list[EquipmentSnapshot]]:
    """Snapshots per equipment key, each list sorted by time (stable for equal times)."""
    grouped: dict[str, list[EquipmentSnapshot]] = {}
    for snapshot in snapshots:
        grouped.setdefault(snapshot.equipment_key, []).append(snapshot)
    for items in grouped.values():
        items.sort(key=lambda s: s.datetime)
    return grouped


# --------------------------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _child_text(element: ET.Element, name: str) -> str | None:
    child = _child(element, name)
    return None if child is None else _clean(child.text)


def _xml_reading(element: ET.Element | None, value_name: str, unit_name: str | None) -> _Reading | None:
    if element is None:
        return None
    at = element.get("datetime") or _child_text(element, "datetime")
    unit = _child_text(element, unit_name) if unit_name else None
    return _Reading(_child_text(element, value_name), unit, at)


def _equipment_from_xml(
    element: ET.Element, fleet_time: str | None, position: int
) -> EquipmentSnapshot | None:
    header_element = _child(element, "EquipmentHeader")
    header: dict[str, Any] = {}
    if header_element is not None:
        header = {_local(child.tag): child.text for child in header_element}
    energy_element = None
    for child in element:
        if _local(child.tag) == "Extension" and child.get("vendor") == GX_VENDOR:
            energy_element = _child(child, "CumulativeEnergyUsed")
            if energy_element is not None:
                break
    return _build_snapshot(
        header,
        _xml_reading(_child(element, "CumulativeOperatingHours"), "Hour", None),
        _xml_reading(_child(element, "FuelUsed"), "FuelConsumed", "FuelUnits"),
        _xml_reading(energy_element, "EnergyConsumed", "EnergyUnits"),
        fleet_time,
        position,
    )


def _chunks(source: Source) -> Iterator[bytes | str]:
    if isinstance(source, bytes | str):
        step = CHUNK_BYTES
        for start in range(0, len(source), step):
            yield source[start : start + step]
        return
    if isinstance(source, Path):
        with source.open("rb") as handle:
            yield from iter(lambda: handle.read(CHUNK_BYTES), b"")
        return
    yield from iter(lambda: source.read(CHUNK_BYTES), b"")


def _refuse_dtd(window: bytes | str) -> None:
    found = (
        any(token in window.lower() for token in _FORBIDDEN_MARKUP)
        if isinstance(window, str)
        else any(token in window.lower() for token in _FORBIDDEN_BYTES)
    )
    if found:
        raise SnapshotFormatError(
            "document type or entity declarations (<!DOCTYPE, <!ENTITY) are not accepted"
        )


def parse_fleet_xml(source: Source) -> dict[str, list[EquipmentSnapshot]]:
    """Parse an ISO 15143-3 XML fleet snapshot into snapshots per equipment key.

    Streams the document (bounded memory), refuses DTDs/entities, accepts any or no namespace.
    Equipment entries without any cumulative reading are skipped. Raises
    :class:`SnapshotFormatError` (with the line for XML syntax errors).
    """
    return _parse_xml_chunks(_chunks(source))


def _parse_xml_chunks(chunks: Iterable[bytes | str]) -> dict[str, list[EquipmentSnapshot]]:
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    stack: list[ET.Element] = []
    fleet_time: str | None = None
    snapshots: list[EquipmentSnapshot] = []
    position = 0

    def handle_events() -> None:
        nonlocal fleet_time, position
        for item in parser.read_events():
            # Only "start"/"end" events were requested: each is (event, Element).
            event, element = cast(tuple[str, Any], item)
            if not isinstance(element, ET.Element):
                continue
            name = _local(element.tag)
            if event == "start":
                if not stack:
                    if name != "Fleet":
                        raise SnapshotFormatError(
                            f"root element is {name!r}, expected 'Fleet' (ISO 15143-3 snapshot)"
                        )
                    fleet_time = element.get("snapshotTime")
                stack.append(element)
                continue
            stack.pop()
            if name == "Equipment" and len(stack) == 1:
                position += 1
                snapshot = _equipment_from_xml(element, fleet_time, position)
                if snapshot is not None:
                    snapshots.append(snapshot)
                # Drop the finished element so memory does not grow with the fleet size.
                stack[0].remove(element)

    tail: bytes | str | None = None
    try:
        for chunk in chunks:
            # Scan the chunk with the end of the previous one so a marker split across two
            # chunks is still seen.
            window: bytes | str = chunk
            if isinstance(tail, bytes) and isinstance(chunk, bytes):
                window = tail + chunk
            elif isinstance(tail, str) and isinstance(chunk, str):
                window = tail + chunk
            _refuse_dtd(window)
            tail = window[-_OVERLAP:]
            parser.feed(chunk)
            handle_events()
        parser.close()
        handle_events()
    except ET.ParseError as error:
        raise SnapshotFormatError(f"malformed XML: {error}", line=error.position[0]) from None
    return group_by_equipment(snapshots)


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------


def _get(mapping: Mapping[str, Any], name: str) -> Any:
    if name in mapping:
        return mapping[name]
    wanted = name.casefold()
    for key, value in mapping.items():
        if isinstance(key, str) and key.casefold() == wanted:
            return value
    return None


def _json_reading(node: Any, value_name: str, unit_name: str | None, where: str) -> _Reading | None:
    if node is None:
        return None
    if not isinstance(node, Mapping):
        raise SnapshotFormatError(f"{where}: expected an object")
    at = _get(node, "datetime")
    unit = _get(node, unit_name) if unit_name else None
    return _Reading(_get(node, value_name), None if unit is None else str(unit), at)


def _json_energy(item: Mapping[str, Any], where: str) -> _Reading | None:
    extensions = _get(item, "Extension")
    if extensions is None:
        return None
    for extension in extensions if isinstance(extensions, list) else [extensions]:
        if isinstance(extension, Mapping) and _get(extension, "vendor") == GX_VENDOR:
            node = _get(extension, "CumulativeEnergyUsed")
            if node is not None:
                return _json_reading(node, "EnergyConsumed", "EnergyUnits", where)
    return None


def _reject_constant(name: str) -> Any:
    raise SnapshotFormatError(f"malformed JSON: {name} is not a number")


def parse_fleet_json(source: Source) -> dict[str, list[EquipmentSnapshot]]:
    """Parse an AEMP 2.0 / ISO 15143-3 JSON fleet snapshot into snapshots per equipment key.

    Accepts ``{"Fleet": {"Equipment": [...]}}``, ``{"Equipment": [...]}`` or a list of pages.
    Raises :class:`SnapshotFormatError` (with the line for JSON syntax errors).
    """
    return _parse_json_chunks(_chunks(source))


def _parse_json_chunks(chunks: Iterable[bytes | str]) -> dict[str, list[EquipmentSnapshot]]:
    raw = b"".join(c if isinstance(c, bytes) else c.encode("utf-8") for c in _limited(chunks))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SnapshotFormatError(f"JSON is not UTF-8: {error}") from None
    try:
        document = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise SnapshotFormatError(f"malformed JSON: {error.msg}", line=error.lineno) from None

    pages = document if isinstance(document, list) else [document]
    snapshots: list[EquipmentSnapshot] = []
    position = 0
    for page in pages:
        if not isinstance(page, Mapping):
            raise SnapshotFormatError("JSON snapshot page must be an object")
        fleet = _get(page, "Fleet")
        fleet = page if fleet is None else fleet
        if not isinstance(fleet, Mapping):
            raise SnapshotFormatError("'Fleet' must be an object")
        equipment = _get(fleet, "Equipment")
        if equipment is None:
            raise SnapshotFormatError("no 'Equipment' list in the JSON snapshot")
        fleet_time = _get(fleet, "snapshotTime")
        for item in equipment if isinstance(equipment, list) else [equipment]:
            position += 1
            if not isinstance(item, Mapping):
                raise SnapshotFormatError(f"equipment #{position}: expected an object")
            header = _get(item, "EquipmentHeader") or {}
            if not isinstance(header, Mapping):
                raise SnapshotFormatError(f"equipment #{position}: EquipmentHeader not an object")
            where = f"equipment #{position}"
            snapshot = _build_snapshot(
                {
                    name: _get(header, name)
                    for name in ("PIN", "SerialNumber", "EquipmentID", "OEMName", "Model")
                },
                _json_reading(_get(item, "CumulativeOperatingHours"), "Hour", None, where),
                _json_reading(_get(item, "FuelUsed"), "FuelConsumed", "FuelUnits", where),
                _json_energy(item, where),
                fleet_time if isinstance(fleet_time, str) else None,
                position,
            )
            if snapshot is not None:
                snapshots.append(snapshot)
    return group_by_equipment(snapshots)


def _limited(chunks: Iterable[bytes | str]) -> Iterator[bytes | str]:
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_JSON_BYTES:
            raise SnapshotFormatError(f"JSON snapshot larger than {MAX_JSON_BYTES} bytes")
        yield chunk


def parse_fleet_snapshot(source: Source) -> dict[str, list[EquipmentSnapshot]]:
    """Parse an XML or JSON snapshot, telling them apart by the first non-blank character.

    Streams are not read whole for XML: the first chunk is inspected and then parsing goes on
    from it.
    """
    chunks = _chunks(source)
    first = next(chunks, b"")
    head = first[:64].lstrip()
    if isinstance(head, bytes):
        head = head.removeprefix(b"\xef\xbb\xbf")
    elif head.startswith("\ufeff"):
        head = head[1:]
    rest = itertools.chain([first], chunks)
    if head[:1] in ("<", b"<"):
        return _parse_xml_chunks(rest)
    if head[:1] in ("{", "[", b"{", b"["):
        return _parse_json_chunks(rest)
    raise SnapshotFormatError("not an ISO 15143-3 snapshot: expected XML or JSON")


# --------------------------------------------------------------------------------------------
# Cumulative readings -> period deltas
# --------------------------------------------------------------------------------------------

_QUANTITIES = (
    ("cumulative_hours", "operating hours"),
    ("cumulative_fuel_litres", "fuel used"),
    ("cumulative_kwh", "energy used"),
)


def _same_readings(a: EquipmentSnapshot, b: EquipmentSnapshot) -> bool:
    return all(getattr(a, attr) == getattr(b, attr) for attr, _ in _QUANTITIES)


def to_period_deltas(
    snapshots: Mapping[str, Sequence[EquipmentSnapshot]],
    previous_by_pin: Mapping[str, EquipmentSnapshot] | None = None,
) -> list[PeriodDelta]:
    """Turn cumulative readings into per-period usage (DESIGN.md "Imports").

    For each machine (key = PIN, else serial, else EquipmentID), snapshots are taken in time
    order, starting from ``previous_by_pin[key]`` (the last snapshot already imported) if given;
    each later snapshot yields one delta over (previous time, its time] with
    runtime_h = Δ hours, fuel_litres = Δ fuel, kwh = Δ energy.

    * The first snapshot of a machine with no previous one is only a baseline (no delta).
    * Snapshots at or before the previous time are already imported and are skipped, so a
      re-import is idempotent; one at the *same* time with different readings is an error.
    * A snapshot whose readings did not change yields no delta (nothing to log).
    * A quantity missing from a snapshot is carried to the next snapshot that reports it;
      totals are conserved (that delta covers the longer span).
    * A cumulative reading that goes down raises :class:`ReadingSequenceError` naming the
      equipment, datetime and quantity (meter replacement needs a manual correction).
    """
    previous_by_pin = previous_by_pin or {}
    deltas: list[PeriodDelta] = []
    for key in sorted(snapshots):
        ordered = sorted(snapshots[key], key=lambda s: s.datetime)
        previous = previous_by_pin.get(key)
        last: dict[str, Decimal | None] = {
            attr: getattr(previous, attr) if previous else None for attr, _ in _QUANTITIES
        }
        for current in ordered:
            if previous is not None and current.datetime <= previous.datetime:
                if current.datetime == previous.datetime and not _same_readings(current, previous):
                    raise ReadingSequenceError(
                        key, current.datetime, "two snapshots at the same time disagree"
                    )
                continue
            changes: dict[str, Decimal | None] = {}
            for attr, label in _QUANTITIES:
                value = getattr(current, attr)
                before = last[attr]
                if value is None:
                    changes[attr] = None
                    continue
                if before is not None and value < before:
                    raise ReadingSequenceError(
                        key,
                        current.datetime,
                        f"cumulative {label} went down from {before} to {value}",
                    )
                changes[attr] = None if before is None else value - before
                last[attr] = value
            # An unchanged snapshot (machine idle or offline) carries no usage: no delta row.
            if previous is not None and any(v for v in changes.values()):
                deltas.append(
                    PeriodDelta(
                        equipment_key=key,
                        pin=current.pin,
                        serial_number=current.serial_number,
                        period_start=previous.datetime,
                        period_end=current.datetime,
                        runtime_h=changes["cumulative_hours"],
                        fuel_litres=changes["cumulative_fuel_litres"],
                        kwh=changes["cumulative_kwh"],
                    )
                )
            previous = current
    return deltas


def latest_by_equipment(
    snapshots: Mapping[str, Sequence[EquipmentSnapshot]],
) -> dict[str, EquipmentSnapshot]:
    """The newest snapshot per machine: store it as ``previous_by_pin`` for the next import."""
    return {key: max(items, key=lambda s: s.datetime) for key, items in snapshots.items() if items}


__all__ = [
    "ENERGY_UNIT_TO_KWH",
    "FUEL_UNIT_TO_LITRES",
    "EquipmentSnapshot",
    "PeriodDelta",
    "ReadingSequenceError",
    "SnapshotFormatError",
    "group_by_equipment",
    "latest_by_equipment",
    "parse_fleet_json",
    "parse_fleet_snapshot",
    "parse_fleet_xml",
    "to_period_deltas",
]
