"""Issue 6: every user's whole job through the web pages, in Debian Chromium.

1. a maker registers a model, applies, answers an information request, and sees the certificate;
2. a certifier reviews, requests information, approves, later suspends and revokes;
3. a contractor registers machines, uploads a CSV with some bad rows, reads the error report, fixes
   and re-uploads, corrects one log, and reads its history charts;
4. an agency creates a tender, committee members score, the evaluation report and XLSX come out, and
   after award the fulfilment shows in the contractor's history;
5. a member of the public searches the register in Traditional Chinese and downloads open data.

Each journey also switches the language (zh <-> en), makes a form show field errors and checks it
kept what was typed; a failing journey leaves screenshots in tests/artifacts/ (conftest).
Selectors: form fields by their ``name`` (stable across both languages), buttons and links by role
and their English name where the step runs in English.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect  # noqa: E402

from tests.browser.conftest import DEMO_LOGINS  # noqa: E402

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TODAY = date.today().isoformat()


# --- helpers -------------------------------------------------------------------------------


def switch_language(page) -> None:  # type: ignore[no-untyped-def]
    """On the current page: switch to English and back to Traditional Chinese. The path is kept,
    <html lang> follows, and the translated site name in the <title> changes."""
    path = urlsplit(page.url).path
    start = page.locator("html").get_attribute("lang")
    if start != "en":
        page.locator("header a[data-lang=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert urlsplit(page.url).path == path
    english_title = page.title()
    assert "GX Machinery" in english_title
    page.locator("header a[data-lang=zh_Hant_TW]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant-TW")
    assert urlsplit(page.url).path == path
    assert page.title() != english_title and "低碳" in page.title()
    if start == "en":
        page.locator("header a[data-lang=en]").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")


def use_english(page) -> None:  # type: ignore[no-untyped-def]
    if page.locator("html").get_attribute("lang") != "en":
        page.locator("header a[data-lang=en]").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")


def field_error_shown(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The field ``name`` is marked invalid and has an error message next to it."""
    wrapper = page.locator(f".field.has-error:has([name='{name}'])")
    expect(wrapper).to_have_count(1)
    expect(wrapper.locator(".error").first).to_be_visible()


def click_button(page, name: str, scope=None) -> None:  # type: ignore[no-untyped-def]
    (scope or page).get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def select_containing(select, text: str) -> None:  # type: ignore[no-untyped-def]
    """Choose the option whose label contains ``text``."""
    labels = select.locator("option").all_inner_texts()
    matches = [label for label in labels if text in label]
    assert matches, f"no option containing {text!r} in {labels}"
    select.select_option(label=matches[0])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


EXCAVATOR_MODES = {"digging_loading": "16", "leveling": "12", "travel": "10", "idling": "4"}


def fill_application(page, type_designation: str, *, drive: str = "diesel") -> None:  # type: ignore[no-untyped-def]
    """The application form for a 0.8 m3 diesel excavator against MLIT_2020 (evaluation value
    0.55×16 + 0.20×12 + 0.10×10 + 0.15×4 = 12.8 L/h <= baseline 14.2 -> ★★★)."""
    form = page.locator("main form[method=post]")
    form.locator("select[name=category]").select_option("hydraulic_excavator")
    form.locator("select[name=baseline_set]").select_option("MLIT_2020")
    form.locator("input[name=type_designation]").fill(type_designation)
    form.locator("input[name=catalogue_names]").fill(f"{type_designation}LC")
    form.locator("select[name=drive]").select_option(drive)
    form.locator("input[name=rated_power_kw]").fill("110")
    form.locator("input[name=mass_kg]").fill("20100")
    form.locator("input[name=size_value]").fill("0.8")
    form.locator("input[name=emission_stage]").fill("Tier 4 Final")
    for mode, value in EXCAVATOR_MODES.items():
        form.locator(f"input[name=m_{mode}]").fill(value)


def maker_creates_and_submits(page, type_designation: str, *, check_errors: bool = False) -> int:  # type: ignore[no-untyped-def]
    """Maker pages: new application (optionally first with a missing field), upload the test
    report, submit. Returns the application id."""
    page.goto("/certification/applications/new?category=hydraulic_excavator")
    use_english(page)
    fill_application(page, type_designation)
    if check_errors:
        # A negative rated power passes the browser's checks but not the server's.
        page.locator("input[name=rated_power_kw]").fill("-110")
        click_button(page, "Save draft")
        expect(page.locator(".error-summary").first).to_be_visible()
        field_error_shown(page, "rated_power_kw")
        # What was typed is still there.
        expect(page.locator("input[name=rated_power_kw]")).to_have_value("-110")
        expect(page.locator("input[name=type_designation]")).to_have_value(type_designation)
        expect(page.locator("input[name=size_value]")).to_have_value("0.8")
        expect(page.locator("input[name=m_digging_loading]")).to_have_value("16")
        page.locator("input[name=rated_power_kw]").fill("110")
    click_button(page, "Save draft")
    expect(page).to_have_url(re.compile(r"/certification/applications/\d+$"))
    application_id = int(urlsplit(page.url).path.rsplit("/", 1)[1])
    expect(page.get_by_role("heading", level=1)).to_contain_text(type_designation)
    page.locator("input[name=file]").set_input_files(
        files=[{"name": "test-report.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    click_button(page, "Upload")
    expect(page.get_by_role("link", name="test-report.pdf")).to_be_visible()
    click_button(page, "Submit for review")
    expect(page.locator("main")).to_contain_text("Submitted")
    return application_id


def certifier_opens(page, application_id: int) -> None:  # type: ignore[no-untyped-def]
    page.goto("/certification/queue")
    use_english(page)
    page.get_by_role("link", name=str(application_id), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/certification/applications/{application_id}$"))


def action_form(page, action: str):  # type: ignore[no-untyped-def]
    return page.locator(f"form[action$='/{action}']")


# --- 1. maker ------------------------------------------------------------------------------


def test_journey_1_maker_applies_answers_and_sees_certificate(new_page, login_as):
    maker = new_page(locale="zh-TW")
    login_as(maker, DEMO_LOGINS["maker"])
    maker.goto("/certification/applications")
    switch_language(maker)
    type_designation = unique("E2E-PC")
    application_id = maker_creates_and_submits(maker, type_designation, check_errors=True)
    # The maker sees the preview before the decision: it would pass with ★★★.
    expect(maker.locator("section.preview")).to_contain_text("★★★")

    certifier = new_page(locale="en-US")
    login_as(certifier, DEMO_LOGINS["certifier"])
    certifier_opens(certifier, application_id)
    click_button(certifier, "Start review")
    form = action_form(certifier, "request_information")
    form.locator("input[name=reason]").fill("Please attach the lab accreditation.")
    click_button(certifier, "Request information", form)
    expect(certifier.locator("main")).to_contain_text("Information requested")

    # The maker reads the request in the timeline and answers it.
    maker.reload()
    expect(maker.locator("ol.timeline")).to_contain_text("Please attach the lab accreditation.")
    maker.locator("select[name=kind]").select_option("lab_accreditation")
    maker.locator("input[name=file]").set_input_files(
        files=[{"name": "accreditation.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    click_button(maker, "Upload")
    answer = action_form(maker, "answer")
    answer.locator("input[name=message]").fill("Accreditation attached.")
    click_button(maker, "Send answer", answer)
    expect(maker.locator("main")).to_contain_text("Under review")

    certifier.reload()
    click_button(certifier, "Approve and issue certificate")
    expect(certifier.locator("main")).to_contain_text("Approved")

    # The maker sees its certificate.
    maker.reload()
    link = maker.locator("main a[href*='/certification/register/']").first
    expect(link).to_be_visible()
    number = link.inner_text().strip()
    link.click()
    expect(maker.get_by_role("heading", level=1)).to_contain_text(number)
    expect(maker.locator("dl.facts")).to_contain_text("Active")
    expect(maker.locator("dl.facts")).to_contain_text(type_designation)
    switch_language(maker)


# --- 2. certifier --------------------------------------------------------------------------


def test_journey_2_certifier_reviews_approves_suspends_revokes(new_page, login_as):
    maker = new_page(locale="en-US")
    login_as(maker, "maker2@demo.gx")
    type_designation = unique("E2E-CERT")
    application_id = maker_creates_and_submits(maker, type_designation)

    certifier = new_page(locale="zh-TW")
    login_as(certifier, DEMO_LOGINS["certifier"])
    certifier.goto("/certification/queue")
    switch_language(certifier)
    use_english(certifier)
    # The queue filters: submitted applications only.
    certifier.locator("select[name=status]").select_option("submitted")
    click_button(certifier, "Filter")
    expect(certifier.get_by_role("link", name=str(application_id), exact=True)).to_be_visible()
    certifier_opens(certifier, application_id)
    click_button(certifier, "Start review")
    form = action_form(certifier, "request_information")
    form.locator("input[name=reason]").fill("Which bucket was used for the travel mode?")
    click_button(certifier, "Request information", form)

    maker.reload()
    answer = action_form(maker, "answer")
    answer.locator("input[name=message]").fill("The standard 0.8 m3 bucket.")
    click_button(maker, "Send answer", answer)

    certifier.reload()
    click_button(certifier, "Approve and issue certificate")
    certifier.locator("main a[href*='/certification/register/']").first.click()
    number = certifier.get_by_role("heading", level=1).inner_text().split()[-1]

    # A suspension dated before the issue date is refused with the field named, nothing changed.
    suspend = action_form(certifier, "suspend")
    suspend.locator("input[name=effective_from]").fill("2000-01-01")
    suspend.locator("input[name=reason]").fill("Follow-up inspection found a deviation.")
    click_button(certifier, "Suspend", suspend)
    expect(certifier.locator(".error-summary")).to_contain_text("effective_from")
    expect(certifier.locator("dl.facts")).to_contain_text("Active")

    suspend = action_form(certifier, "suspend")
    suspend.locator("input[name=effective_from]").fill(TODAY)
    suspend.locator("input[name=reason]").fill("Follow-up inspection found a deviation.")
    click_button(certifier, "Suspend", suspend)
    expect(certifier.locator("dl.facts")).to_contain_text("Suspended")

    revoke = action_form(certifier, "revoke")
    revoke.locator("input[name=effective_from]").fill(TODAY)
    revoke.locator("input[name=reason]").fill("Deviation not corrected.")
    click_button(certifier, "Revoke", revoke)
    expect(certifier.locator("dl.facts")).to_contain_text("Revoked")
    history = certifier.locator("main table").first
    expect(history).to_contain_text("Suspended")
    expect(history).to_contain_text("Revoked")

    # The public register shows the revocation.
    public = new_page(locale="en-US")
    public.goto(f"/certification/register/{number}")
    expect(public.locator("dl.facts")).to_contain_text("Revoked")


# --- 5. the public -------------------------------------------------------------------------


def test_journey_5_public_searches_register_in_chinese_and_downloads(new_page):
    page = new_page(locale="zh-TW")
    page.goto("/certification/register")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant-TW")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Register of certified machinery")
    rows = page.locator("main table tbody tr")
    expect(rows.first).to_be_visible()
    first_number = rows.first.locator("td").first.inner_text().strip()
    assert re.match(r"\S+", first_number), "the demo register is empty"

    # Filter by category in Chinese (option labels are the Chinese names) and search by number.
    category = page.locator("select[name=category]")
    options = category.locator("option").all_inner_texts()
    assert any("挖" in o for o in options), options
    category.select_option(label=next(o for o in options if "挖" in o))
    page.locator("main form.filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"category=hydraulic_excavator"))
    page.locator("input[name=q]").fill(first_number)
    page.locator("select[name=category]").select_option("")
    page.locator("main form.filters button[type=submit]").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(first_number)

    # Open data: CSV (UTF-8 with BOM, Chinese intact) and XLSX of the same filter.
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV", exact=True).click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(table) == 1 and first_number in data.decode("utf-8-sig")
    with page.expect_download() as info:
        page.get_by_role("link", name="XLSX", exact=True).click()
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"  # XLSX is a zip

    # The certificate's public page, then the language switch there.
    rows.first.locator("a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(first_number)
    switch_language(page)

    # The public annual report: a wrong year is a field error that keeps what was typed.
    page.goto("/reports/annual/")
    page.locator("input[name=year]").fill("1899")
    page.locator("main form button[type=submit]").click()
    field_error_shown(page, "year")
    expect(page.locator("input[name=year]")).to_have_value("1899")
    page.locator("input[name=year]").fill(str(date.today().year))
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/reports/annual/{date.today().year}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(str(date.today().year))
    with page.expect_download() as info:
        page.locator("a[href$='.xlsx']").first.click()
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"


# --- 3. contractor -------------------------------------------------------------------------


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["contract_number", "serial_or_pin", "log_date", "runtime_h", "fuel_litres", "source_ref"]
    )
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _days_ago(n: int) -> str:
    from datetime import timedelta

    return (date.today() - timedelta(days=n)).isoformat()


def _upload(page, name: str, content: bytes) -> None:  # type: ignore[no-untyped-def]
    page.goto("/registry/imports")
    form = page.locator("main form[method=post]")
    form.locator("input[name=file]").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )
    form.locator("select[name=mode]").select_option("all_or_nothing")
    click_button(page, "Upload", form)


def test_journey_3_contractor_fleet_csv_errors_correction_history(new_page, login_as):
    contractor_name = "[DEMO] 山城土木 Hilltown Civil Works"
    # The agency puts a project under this contractor (contractors file only on their own projects).
    agency = new_page(locale="en-US")
    login_as(agency, DEMO_LOGINS["agency"])
    agency.goto("/registry/projects")
    contract = unique("E2E-K")
    form = agency.locator("main form[method=post]")
    form.locator("input[name=contract_number]").fill(contract)
    form.locator("input[name=name]").fill("E2E riverside embankment")
    form.locator("input[name=site]").fill("Hsinchu")
    form.locator("select[name=contractor_id]").select_option(label=contractor_name)
    form.locator("input[name=start_date]").fill(_days_ago(60))
    form.locator("input[name=end_date]").fill(f"{date.today().year + 1}-12-31")
    click_button(agency, "Create", form)
    expect(agency.locator("main table")).to_contain_text(contract)

    # An active certified diesel model from the public register.
    contractor = new_page(locale="zh-TW")
    contractor.goto("/certification/register?status=active&drive=diesel")
    certificate_number = contractor.locator("main table tbody tr td a").first.inner_text().strip()
    login_as(contractor, "contractor3@demo.gx")

    # Fleet: an uncertified machine without category/power/drive is refused field by field,
    # keeping what was typed; then one certified and one uncertified machine are registered.
    contractor.goto("/registry/units")
    switch_language(contractor)
    use_english(contractor)
    certified_serial, plain_serial = unique("E2E-CX"), unique("E2E-UX")
    units = contractor.locator("main form[method=post]")
    units.locator("input[name=serial_or_pin]").fill(plain_serial)
    units.locator("input[name=name]").fill("Small excavator")
    click_button(contractor, "Register", units)
    field_error_shown(contractor, "category_code")
    field_error_shown(contractor, "rated_power_kw")
    expect(contractor.locator("input[name=serial_or_pin]")).to_have_value(plain_serial)
    expect(contractor.locator("input[name=name]")).to_have_value("Small excavator")
    units = contractor.locator("main form[method=post]")
    units.locator("select[name=category_code]").select_option("hydraulic_excavator")
    units.locator("input[name=rated_power_kw]").fill("100")
    units.locator("select[name=drive]").select_option("diesel")
    click_button(contractor, "Register", units)
    expect(contractor.locator("main table").first).to_contain_text(plain_serial)
    units = contractor.locator("main form[method=post]")
    units.locator("input[name=serial_or_pin]").fill(certified_serial)
    units.locator("input[name=certificate_number]").fill(certificate_number)
    click_button(contractor, "Register", units)
    expect(contractor.locator("main table").first).to_contain_text(certificate_number)

    # A CSV with four bad rows (spreadsheet rows 4-7): nothing is stored, each row is reported.
    d1, d2, d3 = _days_ago(3), _days_ago(2), _days_ago(1)
    ref = unique("E2E-CSV")
    good = [
        [contract, certified_serial, d1, "8", "60", f"{ref}-1"],
        [contract, plain_serial, d1, "6", "45", f"{ref}-2"],
    ]
    bad = good + [
        [contract, certified_serial, d2, "30", "60", f"{ref}-3"],  # runtime > 24 h
        [contract, "NO-SUCH-UNIT", d2, "5", "30", f"{ref}-4"],  # unknown machine
        [contract, plain_serial, f"{date.today().year + 1}-01-05", "5", "30", f"{ref}-5"],  # future
        [contract, plain_serial, d2, "7", "-3", f"{ref}-6"],  # negative fuel
    ]
    _upload(contractor, "logs-week.csv", _csv(bad))
    expect(contractor).to_have_url(re.compile(r"/registry/imports/\d+$"))
    facts = contractor.locator("main dl")
    expect(facts).to_contain_text("6")  # rows
    report = contractor.locator("main table").last
    for row, column in (("4", "runtime_h"), ("5", "serial_or_pin"), ("6", "log_date"), ("7", "fuel_litres")):
        expect(
            report.locator("tr", has_text=column).filter(has=contractor.locator(f"td:text-is('{row}')"))
        ).not_to_have_count(0)
    with contractor.expect_download() as info:
        contractor.get_by_role("link", name="Download the report (CSV)").click()
    errors = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_bytes().decode("utf-8-sig"))))
    assert {e["row"] for e in errors} >= {"4", "5", "6", "7"}
    contractor.goto("/registry/logs")
    expect(contractor.locator("main")).not_to_contain_text(certified_serial)  # all or nothing

    # Fixed file: every row stored; sending it again changes nothing.
    fixed = good + [
        [contract, certified_serial, d2, "9", "70", f"{ref}-3"],
        [contract, plain_serial, d2, "5", "30", f"{ref}-4"],
        [contract, plain_serial, d3, "5", "30", f"{ref}-5"],
        [contract, certified_serial, d3, "7", "50", f"{ref}-6"],
    ]
    _upload(contractor, "logs-week-fixed.csv", _csv(fixed))
    expect(contractor.locator("main dl")).to_contain_text("done")
    expect(contractor.locator("main")).not_to_contain_text("Rejected rows")
    batch_url = contractor.url
    _upload(contractor, "logs-week-fixed.csv", _csv(fixed))
    expect(contractor.locator("main")).to_contain_text("already imported")
    assert contractor.url == batch_url

    # Correct one log: an impossible runtime is a field error that keeps the typed values.
    contractor.goto("/registry/logs?effective=1")
    row = contractor.locator("main table tbody tr", has_text=plain_serial).filter(has_text=d1)
    row.locator("a").first.click()
    expect(contractor.get_by_role("heading", level=1)).to_contain_text("Usage log")
    correction = contractor.locator("main form[method=post]")
    correction.locator("input[name=runtime_h]").fill("26")
    correction.locator("textarea[name=reason]").fill("Operator typed the wrong hours.")
    click_button(contractor, "File correction", correction)
    expect(contractor.locator("main .error").first).to_be_visible()
    expect(contractor.locator("input[name=runtime_h]")).to_have_value("26")
    expect(contractor.locator("textarea[name=reason]")).to_have_value("Operator typed the wrong hours.")
    contractor.locator("input[name=runtime_h]").fill("5.5")
    click_button(contractor, "File correction", contractor.locator("main form[method=post]"))
    expect(contractor.locator("main")).to_contain_text("Operator typed the wrong hours.")
    expect(contractor.locator("main")).to_contain_text("Earlier versions")

    # History with charts.
    contractor.goto("/registry/")
    expect(contractor.locator("main table").first).to_contain_text(contract)
    expect(contractor.locator("main figure.chart svg").first).to_be_visible()
    switch_language(contractor)


# --- 4. agency and committee ---------------------------------------------------------------


MEMBERS = ["member1@demo.gx", "member2@demo.gx", "member3@demo.gx"]
BIDDERS = {
    # label: (login, organisation name, price, commitment lines)
    "A": (
        "contractor@demo.gx",
        "[DEMO] 北辰營造 Polaris Construction",
        "98000000",
        "hydraulic_excavator,battery_electric,2,120,1600,yes,0,150000",
    ),
    "B": (
        "contractor2@demo.gx",
        "[DEMO] 海岸工程 Coastline Engineering",
        "95000000",
        "hydraulic_excavator,diesel,2,120,1600,no,40000,0",
    ),
}
# quality (max 40) and plan (max 30) per member: A clearly ahead, so A wins with or without carbon.
SCORES = {"A": {"quality": "36", "plan": "26"}, "B": {"quality": "30", "plan": "22"}}


def test_journey_4_tender_scoring_report_award_fulfilment(new_page, login_as):
    agency = new_page(locale="zh-TW")
    login_as(agency, DEMO_LOGINS["agency"])
    agency.goto("/tenders")
    switch_language(agency)
    use_english(agency)
    # A project not awarded yet.
    agency.goto("/registry/projects")
    contract = unique("E2E-T")
    form = agency.locator("main form[method=post]")
    form.locator("input[name=contract_number]").fill(contract)
    form.locator("input[name=name]").fill("E2E bridge deck replacement")
    form.locator("input[name=start_date]").fill(_days_ago(60))
    form.locator("input[name=end_date]").fill(f"{date.today().year + 1}-12-31")
    click_button(agency, "Create", form)
    expect(agency.locator("main table")).to_contain_text(contract)

    # The tender: criteria that do not add up to the declared total are refused, typed values kept.
    agency.goto("/tenders/new")
    form = agency.locator("main form[method=post]")
    select_containing(form.locator("select[name=project_id]"), contract)
    reference = unique("E2E-TENDER")
    form.locator("input[name=reference]").fill(reference)
    form.locator("input[name=title]").fill("Bridge deck replacement, most advantageous tender")
    form.locator("select[name=method]").select_option("tw_total")
    form.locator("input[name=total_points]").fill("100")
    form.locator("textarea[name=criteria]").fill(
        "quality | Quality of works | 40\nplan | Construction plan | 20\ncarbon | Machinery carbon score | 30 | | carbon"
    )
    committee = form.locator("select[name=committee]")
    options = committee.locator("option").all_inner_texts()
    committee.select_option(label=[o for o in options if any(m in o for m in MEMBERS)])
    click_button(agency, "Create draft", form)
    expect(agency.locator(".error-summary")).to_be_visible()
    field_error_shown(agency, "total_points")
    expect(agency.locator("input[name=reference]")).to_have_value(reference)
    agency.locator("textarea[name=criteria]").fill(
        "quality | Quality of works | 40\nplan | Construction plan | 30\ncarbon | Machinery carbon score | 30 | | carbon"
    )
    click_button(agency, "Create draft", agency.locator("main form[method=post]"))
    expect(agency.get_by_role("heading", level=1)).to_contain_text(reference)
    tender_url = urlsplit(agency.url).path
    click_button(agency, "Open for bids")
    expect(agency.locator("dl.facts")).to_contain_text("open")

    # Two contractors bid through the bid form (one first with a malformed commitment line).
    for label, (login, _name, price, lines) in BIDDERS.items():
        bidder = new_page(locale="en-US")
        login_as(bidder, login)
        bidder.goto(tender_url)
        bidder.get_by_role("link", name="Submit a bid").click()
        bid_form = bidder.locator("main form[method=post]")
        bid_form.locator("input[name=price]").fill(price)
        if label == "A":
            bid_form.locator("textarea[name=lines]").fill("hydraulic_excavator,diesel,two,120,1600")
            click_button(bidder, "Submit bid", bid_form)
            field_error_shown(bidder, "lines")
            expect(bidder.locator("input[name=price]")).to_have_value(price)
            bid_form = bidder.locator("main form[method=post]")
        bid_form.locator("textarea[name=lines]").fill(lines)
        click_button(bidder, "Submit bid", bid_form)
        expect(bidder.locator("main")).to_contain_text("Your bid")
        bidder.context.close()

    agency.reload()
    click_button(agency, "Close bidding")

    # Each committee member scores and signs; a score above the criterion's maximum is refused
    # and the sheet keeps what was typed.
    for n, email in enumerate(MEMBERS):
        member = new_page(locale="en-US")
        login_as(member, email)
        member.goto(tender_url + "/sheet")
        expect(member.get_by_role("heading", level=1)).to_contain_text(reference)
        for label, (_login, name, _price, _lines) in BIDDERS.items():
            for code, points in SCORES[label].items():
                member.get_by_label(f"{name} {code}", exact=True).fill(points)
        if n == 0:
            member.get_by_label(f"{BIDDERS['B'][1]} quality", exact=True).fill("45")
            click_button(member, "Save and sign")
            expect(member.locator(".error-summary")).to_be_visible()
            expect(member.get_by_label(f"{BIDDERS['B'][1]} quality", exact=True)).to_have_value("45")
            expect(member.get_by_label(f"{BIDDERS['A'][1]} plan", exact=True)).to_have_value(
                SCORES["A"]["plan"]
            )
            member.get_by_label(f"{BIDDERS['B'][1]} quality", exact=True).fill(SCORES["B"]["quality"])
        click_button(member, "Save and sign")
        expect(member.locator("main")).to_contain_text("Signed on")
        member.context.close()

    # Evaluate: the report (with its chart) and its XLSX.
    agency.reload()
    click_button(agency, "Evaluate")
    agency.get_by_role("link", name="Evaluation report").click()
    expect(agency.get_by_role("heading", level=1)).to_contain_text(reference)
    expect(agency.locator("main figure.chart svg")).to_be_visible()
    expect(agency.locator("main")).to_contain_text(BIDDERS["A"][1])
    with agency.expect_download() as info:
        agency.get_by_role("link", name="XLSX", exact=True).click()
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"
    agency.goto(tender_url)
    click_button(agency, "Publish results")
    click_button(agency, "Award")
    expect(agency.locator("dl.facts")).to_contain_text("awarded")

    # The winner (A) works on the project: one machine, one log filed by the form.
    winner = new_page(locale="en-US")
    login_as(winner, BIDDERS["A"][0])
    winner.goto("/registry/units")
    serial = unique("E2E-WX")
    units = winner.locator("main form[method=post]")
    units.locator("input[name=serial_or_pin]").fill(serial)
    units.locator("select[name=category_code]").select_option("hydraulic_excavator")
    units.locator("input[name=rated_power_kw]").fill("120")
    units.locator("select[name=drive]").select_option("diesel")
    click_button(winner, "Register", units)
    winner.goto("/registry/logs/new")
    log = winner.locator("main form[method=post]")
    select_containing(log.locator("select[name=project_id]"), contract)
    log.locator("select[name=machine_unit_id]").select_option(label=serial)
    log.locator("input[name=log_date]").fill(_days_ago(1))
    log.locator("input[name=runtime_h]").fill("8")
    log.locator("input[name=fuel_litres]").fill("90")
    log.locator("button[type=submit]").click()
    expect(winner.get_by_role("heading", level=1)).to_contain_text("Usage log")

    # The agency records fulfilment; it shows in the contractor's history.
    agency.goto(tender_url)
    click_button(agency, "Record fulfilment")
    winner.goto("/registry/")
    outcomes = winner.locator("main table", has_text="Committed share")
    expect(outcomes).to_contain_text(contract)
    switch_language(winner)
