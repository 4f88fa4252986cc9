"""Tests of registry.iso15143: XML (with/without namespace), JSON, deltas and refusals."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry import iso15143
from registry.iso15143 import (
    EquipmentSnapshot,
    ReadingSequenceError,
    SnapshotFormatError,
    latest_by_equipment,
    parse_fleet_json,
    parse_fleet_snapshot,
    parse_fleet_xml,
    to_period_deltas,
)

DATA = Path(__file__).parent / "data"
EXCAVATOR = "KMTPC200C55500123"
ELECTRIC = "VCEEC230E00000007"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- parsing -----------------------------------------------------------------------------------


def test_xml_with_namespace() -> None:
    fleet = parse_fleet_xml(DATA / "fleet_ns_day1.xml")
    # WL-03 has a header but no readings: skipped
    assert sorted(fleet) == [EXCAVATOR, ELECTRIC]
    (excavator,) = fleet[EXCAVATOR]
    assert excavator.serial_number == "500123"
    assert excavator.oem_name == "Komatsu"
    assert excavator.datetime == utc(2024, 5, 1, 8)
    assert excavator.cumulative_hours == Decimal("1234.5")
    assert excavator.cumulative_fuel_litres == Decimal("5678")
    assert excavator.cumulative_kwh is None
    (electric,) = fleet[ELECTRIC]
    # only the vendor="gx" extension counts, not the other vendor's element
    assert electric.cumulative_kwh == Decimal("9100.5")
    assert electric.cumulative_hours == Decimal("210.0")
    assert electric.cumulative_fuel_litres is None


def test_xml_without_namespace_datetime_child_and_gallons() -> None:
    fleet = parse_fleet_xml((DATA / "fleet_no_ns_gallons.xml").read_bytes())
    # no PIN: keyed by the serial number
    (snapshot,) = fleet["190502580"]
    assert snapshot.pin is None
    # 100 US gallons × 3.785411784 L/gal = 378.5411784 L
    assert snapshot.cumulative_fuel_litres == Decimal("378.5411784")
    assert snapshot.cumulative_hours == Decimal("233.70")
    # snapshot time = latest reading time (hours at 11:08:34 via <datetime> child, fuel 10:53:34)
    assert snapshot.datetime == utc(2021, 5, 20, 11, 8, 34)


def test_json_matches_xml() -> None:
    from_json = parse_fleet_json(DATA / "fleet.json")
    from_xml = parse_fleet_xml(DATA / "fleet_ns_day1.xml")
    assert sorted(from_json) == sorted(from_xml)
    for key in from_xml:
        (a,) = from_json[key]
        (b,) = from_xml[key]
        assert (a.datetime, a.cumulative_hours, a.cumulative_fuel_litres, a.cumulative_kwh) == (
            b.datetime,
            b.cumulative_hours,
            b.cumulative_fuel_litres,
            b.cumulative_kwh,
        )


def test_json_without_fleet_wrapper_and_paged_list() -> None:
    pages = (
        b'[{"Equipment": [{"EquipmentHeader": {"PIN": "X1"},'
        b' "CumulativeOperatingHours": {"datetime": "2024-05-01T08:00:00Z", "Hour": 10}}]},'
        b' {"Equipment": {"EquipmentHeader": {"PIN": "X2"},'
        b' "CumulativeOperatingHours": {"DateTime": "2024-05-01T08:00:00+08:00", "Hour": "5.5"}}}]'
    )
    fleet = parse_fleet_json(pages)
    assert fleet["X1"][0].cumulative_hours == Decimal(10)
    # +08:00 is normalised to UTC
    assert fleet["X2"][0].datetime == utc(2024, 5, 1, 0)


def test_fleet_snapshot_time_is_the_fallback_datetime() -> None:
    xml = (
        '<Fleet snapshotTime="2024-05-01T09:00:00Z"><Equipment><EquipmentHeader><PIN>P</PIN>'
        "</EquipmentHeader><CumulativeOperatingHours><Hour>1</Hour></CumulativeOperatingHours>"
        "</Equipment></Fleet>"
    )
    assert parse_fleet_xml(xml)["P"][0].datetime == utc(2024, 5, 1, 9)


def test_auto_detect_and_streams() -> None:
    assert sorted(parse_fleet_snapshot(DATA / "fleet.json")) == [EXCAVATOR, ELECTRIC]
    with (DATA / "fleet_ns_day1.xml").open("rb") as handle:
        assert sorted(parse_fleet_snapshot(handle)) == [EXCAVATOR, ELECTRIC]
    with pytest.raises(SnapshotFormatError, match="expected XML or JSON"):
        parse_fleet_snapshot(b"PIN,Hour\nX,1\n")


def test_large_fleet_streams_in_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(iso15143, "CHUNK_BYTES", 512)
    body = "".join(
        f"<Equipment><EquipmentHeader><PIN>P{i}</PIN></EquipmentHeader>"
        f'<CumulativeOperatingHours datetime="2024-05-01T08:00:00Z"><Hour>{i}.5</Hour>'
        "</CumulativeOperatingHours></Equipment>"
        for i in range(2000)
    )
    xml = f'<Fleet xmlns="urn:x">{body}</Fleet>'.encode()
    fleet = parse_fleet_xml(io.BytesIO(xml))
    assert len(fleet) == 2000
    assert fleet["P1999"][0].cumulative_hours == Decimal("1999.5")


# --- refusals ----------------------------------------------------------------------------------


def test_doctype_is_refused() -> None:
    with pytest.raises(SnapshotFormatError, match="DOCTYPE"):
        parse_fleet_xml(DATA / "fleet_doctype.xml")


def test_doctype_split_across_chunks_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(iso15143, "CHUNK_BYTES", 7)
    with pytest.raises(SnapshotFormatError, match="DOCTYPE"):
        parse_fleet_xml(b'<?xml version="1.0"?>\n<!DOCTYPE Fleet>\n<Fleet/>')


def test_utf16_entity_declaration_is_refused() -> None:
    xml = '<?xml version="1.0" encoding="UTF-16"?><!ENTITY x "y"><Fleet/>'
    with pytest.raises(SnapshotFormatError, match="ENTITY"):
        parse_fleet_xml(xml.encode("utf-16"))


def test_malformed_xml_reports_line() -> None:
    xml = b"<Fleet>\n<Equipment>\n<EquipmentHeader><PIN>X</PIN>\n</Equipment>\n</Fleet>"
    with pytest.raises(SnapshotFormatError) as error:
        parse_fleet_xml(xml)
    assert error.value.line == 4
    assert "malformed XML" in str(error.value)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"", "malformed XML: no element found"),
        (b"<Machines/>", "expected 'Fleet'"),
        (
            b"<Fleet><Equipment><EquipmentHeader><PIN>X</PIN></EquipmentHeader>"
            b'<CumulativeOperatingHours datetime="2024-05-01T08:00:00Z"><Hour>many</Hour>'
            b"</CumulativeOperatingHours></Equipment></Fleet>",
            "equipment X CumulativeOperatingHours: expected a number",
        ),
        (
            b"<Fleet><Equipment><EquipmentHeader><PIN>X</PIN></EquipmentHeader>"
            b'<FuelUsed datetime="2024-05-01T08:00:00Z"><FuelUnits>barrel</FuelUnits>'
            b"<FuelConsumed>1</FuelConsumed></FuelUsed></Equipment></Fleet>",
            "unknown unit 'barrel'",
        ),
        (
            b"<Fleet><Equipment><EquipmentHeader><PIN>X</PIN></EquipmentHeader>"
            b'<FuelUsed datetime="2024-05-01T08:00:00Z"><FuelConsumed>1</FuelConsumed>'
            b"</FuelUsed></Equipment></Fleet>",
            "unit missing",
        ),
        (
            b"<Fleet><Equipment><EquipmentHeader><PIN>X</PIN></EquipmentHeader>"
            b"<CumulativeOperatingHours><Hour>1</Hour></CumulativeOperatingHours>"
            b"</Equipment></Fleet>",
            "missing or invalid datetime",
        ),
        (
            b"<Fleet><Equipment><EquipmentHeader><OEMName>K</OEMName></EquipmentHeader>"
            b'<CumulativeOperatingHours datetime="2024-05-01T08:00:00Z"><Hour>1</Hour>'
            b"</CumulativeOperatingHours></Equipment></Fleet>",
            "no PIN, SerialNumber or EquipmentID",
        ),
        (
            b"<Fleet><Equipment><EquipmentHeader><PIN>X</PIN></EquipmentHeader>"
            b'<CumulativeOperatingHours datetime="2024-05-01T08:00:00Z"><Hour>-3</Hour>'
            b"</CumulativeOperatingHours></Equipment></Fleet>",
            "finite number",
        ),
    ],
)
def test_bad_xml_content(xml: bytes, message: str) -> None:
    with pytest.raises(SnapshotFormatError, match=message):
        parse_fleet_xml(xml)


def test_malformed_json_reports_line() -> None:
    with pytest.raises(SnapshotFormatError) as error:
        parse_fleet_json(b'{"Fleet": {\n "Equipment": [\n  {,]}}')
    assert error.value.line == 3


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b'{"Fleet": {}}', "no 'Equipment'"),
        (
            b'{"Equipment": [{"EquipmentHeader": {"PIN": "X"}, '
            b'"CumulativeOperatingHours": {"datetime": "2024-05-01T08:00:00Z", "Hour": NaN}}]}',
            "NaN is not a number",
        ),
        (b"[1, 2]", "page must be an object"),
        (
            b'{"Equipment": [{"EquipmentHeader": {"PIN": "X"}, '
            b'"CumulativeOperatingHours": {"datetime": "yesterday", "Hour": 1}}]}',
            "invalid datetime",
        ),
    ],
)
def test_bad_json_content(document: bytes, message: str) -> None:
    with pytest.raises(SnapshotFormatError, match=message):
        parse_fleet_json(document)


# --- deltas ------------------------------------------------------------------------------------


def _both_days() -> dict[str, list[EquipmentSnapshot]]:
    day1 = parse_fleet_xml(DATA / "fleet_ns_day1.xml")
    day2 = parse_fleet_xml(DATA / "fleet_ns_day2.xml")
    return {key: day1[key] + day2[key] for key in day1}


def test_deltas_between_two_snapshots() -> None:
    deltas = {d.equipment_key: d for d in to_period_deltas(_both_days())}
    # excavator: 1242.2 − 1234.5 = 7.7 h; 5790.5 − 5678 = 112.5 L
    excavator = deltas[EXCAVATOR]
    assert excavator.runtime_h == Decimal("7.7")
    assert excavator.fuel_litres == Decimal("112.5")
    assert excavator.kwh is None
    assert (excavator.period_start, excavator.period_end) == (
        utc(2024, 5, 1, 8),
        utc(2024, 5, 2, 8),
    )
    assert excavator.source_reference == f"iso15143:{EXCAVATOR}:2024-05-02T08:00:00+00:00"
    # electric: 216.5 − 210.0 = 6.5 h; 9480.0 − 9100.5 = 379.5 kWh
    electric = deltas[ELECTRIC]
    assert (electric.runtime_h, electric.kwh, electric.fuel_litres) == (
        Decimal("6.5"),
        Decimal("379.5"),
        None,
    )


def test_deltas_from_stored_previous_and_idempotent_reimport() -> None:
    previous = latest_by_equipment(parse_fleet_xml(DATA / "fleet_ns_day1.xml"))
    day2 = parse_fleet_xml(DATA / "fleet_ns_day2.xml")
    assert to_period_deltas(day2, previous) == to_period_deltas(_both_days())
    # importing day 2 again after it was stored yields nothing
    assert to_period_deltas(day2, latest_by_equipment(day2)) == []
    # a single snapshot without a stored previous is only a baseline
    assert to_period_deltas(parse_fleet_xml(DATA / "fleet_ns_day1.xml")) == []


def _snapshot(at: datetime, hours: str | None, fuel: str | None = None) -> EquipmentSnapshot:
    return EquipmentSnapshot(
        equipment_key="EX9",
        pin="EX9",
        serial_number=None,
        equipment_id=None,
        oem_name=None,
        model=None,
        datetime=at,
        cumulative_hours=None if hours is None else Decimal(hours),
        cumulative_fuel_litres=None if fuel is None else Decimal(fuel),
        cumulative_kwh=None,
    )


def test_backwards_reading_is_an_error_naming_equipment_and_time() -> None:
    snapshots = {"EX9": [_snapshot(utc(2024, 5, 1), "100", "50"), _snapshot(utc(2024, 5, 2), "99", "60")]}
    with pytest.raises(ReadingSequenceError) as error:
        to_period_deltas(snapshots)
    assert error.value.equipment == "EX9"
    assert error.value.at == utc(2024, 5, 2)
    assert "EX9" in str(error.value)
    assert "2024-05-02" in str(error.value)
    assert "operating hours went down from 100 to 99" in str(error.value)


def test_conflicting_snapshots_at_the_same_time() -> None:
    snapshots = {"EX9": [_snapshot(utc(2024, 5, 1), "100"), _snapshot(utc(2024, 5, 1), "101")]}
    with pytest.raises(ReadingSequenceError, match="disagree"):
        to_period_deltas(snapshots)


def test_missing_quantity_is_carried_forward() -> None:
    # fuel 50 -> (missing) -> 80: the 30 L appear in the third period; hours 100 -> 104 -> 110
    snapshots = {
        "EX9": [
            _snapshot(utc(2024, 5, 1), "100", "50"),
            _snapshot(utc(2024, 5, 2), "104", None),
            _snapshot(utc(2024, 5, 3), "110", "80"),
        ]
    }
    first, second = to_period_deltas(snapshots)
    assert (first.runtime_h, first.fuel_litres) == (Decimal(4), None)
    assert (second.runtime_h, second.fuel_litres) == (Decimal(6), Decimal(30))


def test_unchanged_snapshot_gives_no_delta() -> None:
    snapshots = {
        "EX9": [
            _snapshot(utc(2024, 5, 1), "100", "50"),
            _snapshot(utc(2024, 5, 2), "100", "50"),
            _snapshot(utc(2024, 5, 3), "108", "90"),
        ]
    }
    (delta,) = to_period_deltas(snapshots)
    assert delta.period_start == utc(2024, 5, 2)
    assert (delta.runtime_h, delta.fuel_litres) == (Decimal(8), Decimal(40))


increments = st.lists(
    st.tuples(
        st.decimals(min_value=0, max_value=24, places=1),
        st.decimals(min_value=0, max_value=500, places=2),
    ),
    min_size=1,
    max_size=15,
)


@settings(max_examples=100, deadline=None)
@given(increments, st.randoms(use_true_random=False))
def test_deltas_conserve_totals_whatever_the_order(steps: list, rnd) -> None:
    start = utc(2024, 1, 1)
    hours, fuel = Decimal("1000.0"), Decimal("20000.00")
    snapshots = [_snapshot(start, str(hours), str(fuel))]
    for i, (dh, df) in enumerate(steps, start=1):
        hours += dh
        fuel += df
        snapshots.append(_snapshot(start + timedelta(hours=i), str(hours), str(fuel)))
    rnd.shuffle(snapshots)

    deltas = to_period_deltas({"EX9": snapshots})
    assert sum((d.runtime_h or 0 for d in deltas), Decimal(0)) == hours - Decimal("1000.0")
    assert sum((d.fuel_litres or 0 for d in deltas), Decimal(0)) == fuel - Decimal("20000.00")
    assert all((d.runtime_h or 0) >= 0 and (d.fuel_litres or 0) >= 0 for d in deltas)
    assert all(d.period_start < d.period_end for d in deltas)
