"""Claim and authorization status lookups on both payers over HTTP (no browser): 277 categories,
payments and CARCs as the clock moves, searches by number and by member, the indexing delay, the
EOB and letter PDFs, and the lookups the inspection API counts."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from tests.unit.mock_portal.test_portal_pages import acme_claim, beacon_auth, beacon_claim, patient, text_of

TWO_STAGES = 2 * 60 * 60 + 1  # claim_stage_minutes (60) per stage, two stages to final


def submit_claim(client: TestClient, payer: str, member_id: str) -> str:
    if payer == "acme":
        return text_of(client.post("/acme/claims/new", data=acme_claim(member_id)).text, "claim-number")
    return text_of(client.post("/beacon/app/claims/new", data=beacon_claim(member_id)).text, "bx-claim-id")


def submit_auth(client: TestClient, payer: str, member_id: str) -> str:
    """The reference (Acme) or case number (Beacon) of a new request for 97110 x 8 visits."""
    if payer == "beacon":
        page = client.post("/beacon/app/auths/new", data=beacon_auth(member_id)).text
        return text_of(page, "bx-auth-case-number")
    start = (date.today() + timedelta(days=3)).strftime("%m/%d/%Y")
    client.get("/acme/auths/new")
    step1 = {**patient(member_id, "%m/%d/%Y"), "requesting_npi": "2000000002", "servicing_npi": "2000000010"}
    client.post("/acme/auths/new/1", data={**step1, "action": "next"})
    step2 = {
        "diagnosis_A": "M54.50", "proc_0_code": "97110", "proc_0_units": "8", "proc_0_unit_type": "visits",
        "service_from": start, "service_to": start, "urgency": "standard", "place_of_service": "11",
        "action": "next",
    }  # fmt: skip
    client.post("/acme/auths/new/2", data=step2)
    client.post("/acme/auths/new/3", data={"action": "next"})
    return text_of(client.post("/acme/auths/new/4", data={"action": "submit"}).text, "auth-reference-number")


CLAIM = {
    "acme": {"search": "/acme/claims/status", "detail": "/acme/claims/{}", "pdf": "/acme/claims/{}/eob.pdf"},
    "beacon": {
        "search": "/beacon/app/claims/status",
        "detail": "/beacon/app/claims/{}",
        "pdf": "/beacon/app/claims/{}/remittance.pdf",
    },
}
AUTH = {
    "acme": {"search": "/acme/auths/lookup", "detail": "/acme/auths/{}", "pdf": "/acme/auths/{}/letter.pdf"},
    "beacon": {
        "search": "/beacon/app/auths/status",
        "detail": "/beacon/app/auths/{}",
        "pdf": "/beacon/app/auths/{}/letter.pdf",
    },
}


def tid(payer: str, name: str) -> str:
    return name if payer == "acme" else f"bx-{name}"


def pdf_text(response: object) -> str:
    content = response.content  # type: ignore[attr-defined]
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def rows(payer: str, page: str, kind: str = "claim") -> int:
    return page.count(f'data-testid="{tid(payer, kind + "-row")}"')


@pytest.fixture(params=["acme", "beacon"])
def payer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(payer: str, request: pytest.FixtureRequest) -> TestClient:
    """Signed in to the payer under test, staying signed in while the clock jumps days."""
    signed_in: TestClient = request.getfixturevalue(payer)
    long = {"idle_timeout_seconds": 10**9, "session_lifetime_seconds": 10**9, "security_ack_days": 0}
    signed_in.patch("/_mock/knobs", json=long)
    return signed_in


def test_a_claim_is_acknowledged_then_paid_by_the_clock(client: TestClient, payer: str) -> None:
    number = submit_claim(client, payer, "SYN100001")
    first = client.get(CLAIM[payer]["search"], params={"claim_number": number}).text
    assert rows(payer, first) == 1
    assert client.get(CLAIM[payer]["pdf"].format(number)).status_code == 404  # no EOB yet
    client.post("/_mock/clock/advance", json={"seconds": TWO_STAGES})
    found = client.get(CLAIM[payer]["search"], params={"claim_number": number}).text
    assert ("Finalized - Paid" if payer == "beacon" else ">Paid<") in found
    detail = client.get(CLAIM[payer]["detail"].format(number)).text
    assert text_of(detail, tid(payer, "claim-status-category")) == "F1 - Finalized/Payment"
    assert text_of(detail, tid(payer, "paid-amount")) == "$72.00"  # 80% of $90.00
    assert text_of(detail, tid(payer, "payment-method")) == ("Check" if payer == "acme" else "EFT")
    payment = text_of(detail, tid(payer, "payment-number"))
    assert re.fullmatch(r"\d{8}" if payer == "acme" else r"\d{15}", payment)
    paid_on = text_of(detail, tid(payer, "paid-date"))
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}" if payer == "acme" else r"\d{4}-\d{2}-\d{2}", paid_on)
    row = rf'{tid(payer, "adjustment-row")}"><td>CO-45</td><td>Charge exceeds fee schedule'
    assert re.search(row, detail)
    assert "$18.00" in detail
    assert client.get(CLAIM[payer]["detail"].format(number)).text.count(payment) == 1  # stable

    eob = client.get(CLAIM[payer]["pdf"].format(number))
    assert eob.headers["content-type"] == "application/pdf"
    assert eob.headers["content-disposition"].startswith("attachment; filename=")
    text = pdf_text(eob)
    assert number in text and payment in text and "CO-45" in text and "$72.00" in text
    served = client.get("/_mock/documents").json()
    assert [(d["payer"], d["kind"], d["number"]) for d in served] == [(payer, "eob", number)]


def test_a_denied_claim_shows_its_carc_and_no_payment(client: TestClient, payer: str) -> None:
    number = submit_claim(client, payer, "SYN100011")
    client.post("/_mock/clock/advance", json={"seconds": TWO_STAGES})
    detail = client.get(CLAIM[payer]["detail"].format(number)).text
    assert text_of(detail, tid(payer, "claim-status-category")) == "F2 - Finalized/Denial"
    assert text_of(detail, tid(payer, "paid-amount")) == "$0.00"
    assert f'data-testid="{tid(payer, "payment-number")}"' not in detail
    assert text_of(detail, tid(payer, "denial-reason")).startswith("CO-50: These are non-covered services")
    assert re.search(rf'{tid(payer, "adjustment-row")}"><td>CO-50</td><td>These are non-covered', detail)
    text = pdf_text(client.get(CLAIM[payer]["pdf"].format(number)))
    assert number in text and "CO-50" in text and "medical necessity" in text


def test_detail_views_are_polls_searches_are_not(client: TestClient, payer: str) -> None:
    number = submit_claim(client, payer, "SYN100001")
    for _ in range(3):
        client.get(CLAIM[payer]["search"], params={"claim_number": number})
    categories = [
        text_of(client.get(CLAIM[payer]["detail"].format(number)).text, tid(payer, "claim-status-category"))
        for _ in range(2)
    ]
    assert [c.split()[0] for c in categories] == ["P1", "F1"]  # claim_stage_polls = 1
    lookups = client.get("/_mock/lookups", params={"payer": payer, "kind": "claim"}).json()
    assert [(lk["page"], lk["key"], lk["category"]) for lk in lookups] == [
        *[("search", "claim_number", "acknowledged")] * 3,
        ("detail", "claim_number", "pending"),
        ("detail", "claim_number", "finalized_paid"),
    ]
    assert lookups[0]["found"] == 1 and lookups[0]["numbers"] == [number]


def test_search_by_member_dates_and_billing_npi(client: TestClient, payer: str) -> None:
    number = submit_claim(client, payer, "SYN100001")
    day = date.today() - timedelta(days=1)
    shown = day.strftime("%m/%d/%Y") if payer == "acme" else day.isoformat()
    query = {"member_id": "SYN100001", "service_from": shown, "service_to": shown}
    assert rows(payer, client.get(CLAIM[payer]["search"], params=query).text) == 1
    matching = client.get(CLAIM[payer]["search"], params={**query, "billing_npi": "2000000002"}).text
    assert number in matching
    other = client.get(CLAIM[payer]["search"], params={**query, "billing_npi": "2000000010"}).text
    assert rows(payer, other) == 0 and f'data-testid="{tid(payer, "no-results")}"' in other
    bad = client.get(CLAIM[payer]["search"], params={**query, "service_from": "31/31/2020"}).text
    assert f'data-testid="{tid(payer, "error-summary")}"' in bad
    lookups = client.get("/_mock/lookups").json()
    assert [(lk["key"], lk["found"], lk["category"]) for lk in lookups] == [
        ("member", 1, "acknowledged"),
        ("member", 1, "acknowledged"),
        ("member", 0, "not_found"),
    ]  # the form with an error was no lookup


def test_a_new_claim_is_not_found_until_indexed(client: TestClient, payer: str) -> None:
    client.patch("/_mock/knobs", json={"claim_index_delay_minutes": 240})
    number = submit_claim(client, payer, "SYN100001")
    assert rows(payer, client.get(CLAIM[payer]["search"], params={"claim_number": number}).text) == 0
    assert client.get("/_mock/lookups").json()[-1]["category"] == "not_found"
    client.post("/_mock/clock/advance", json={"seconds": 240 * 60})
    assert rows(payer, client.get(CLAIM[payer]["search"], params={"claim_number": number}).text) == 1
    assert client.get("/_mock/lookups").json()[-1]["category"] == "finalized_paid"


def test_seeded_paid_claim_has_its_payment(acme: TestClient) -> None:
    detail = acme.get("/acme/claims/2600100000102").text
    assert text_of(detail, "paid-amount") == "$92.40" and "$32.60" in detail  # CO-45: 125.00 - 92.40
    assert re.fullmatch(r"\d{8}", text_of(detail, "payment-number"))
    assert "CO-97" in acme.get("/acme/claims/2600100000103").text


def test_auth_status_by_number_and_by_member(client: TestClient, payer: str) -> None:
    client.patch("/_mock/knobs", json={"pended_polls": 1})
    reference = submit_auth(client, payer, "SYN100001")
    detail = client.get(AUTH[payer]["detail"].format(reference)).text  # Beacon pends first
    certification = text_of(detail, tid(payer, "auth-certification-number"))
    assert text_of(detail, tid(payer, "auth-approved-units")) == "8"
    decided = text_of(detail, tid(payer, "auth-decision-date"))
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}" if payer == "acme" else r"\d{4}-\d{2}-\d{2}", decided)
    search = AUTH[payer]["search"]
    by_cert = client.get(search, params={"certification_number": certification}).text
    assert rows(payer, by_cert, "auth") == 1 and reference in by_cert
    start = date.today() + timedelta(days=3)
    shown = (lambda d: d.strftime("%m/%d/%Y")) if payer == "acme" else (lambda d: d.isoformat())
    member = {"member_id": "SYN100001", "procedure_code": "97110", "service_from": shown(start)}
    assert rows(payer, client.get(search, params=member).text, "auth") == 1
    other_code = client.get(search, params={**member, "procedure_code": "27447"}).text
    later = client.get(search, params={**member, "service_from": shown(start + timedelta(days=5))}).text
    assert rows(payer, other_code, "auth") == 0 and rows(payer, later, "auth") == 0
    keys = [(lk["page"], lk["key"], lk["category"]) for lk in client.get("/_mock/lookups").json()]
    assert keys[-4:] == [
        ("search", "certification_number", "approved"),
        ("search", "member", "approved"),
        ("search", "member", "not_found"),
        ("search", "member", "not_found"),
    ]
    letter = client.get(AUTH[payer]["pdf"].format(reference))
    assert letter.headers["content-disposition"].endswith('-approval.pdf"')
    text = pdf_text(letter)
    assert "Approval" in text and certification in text and reference in text


def test_denial_letter_and_none_while_pended(client: TestClient, payer: str) -> None:
    client.patch("/_mock/knobs", json={"pended_polls": 5, "pended_minutes": 0})
    denied = submit_auth(client, payer, "SYN100021")
    pended = submit_auth(client, payer, "SYN100022")
    assert client.get(AUTH[payer]["pdf"].format(pended)).status_code == 404
    client.patch("/_mock/knobs", json={"pended_polls": 1})
    detail = client.get(AUTH[payer]["detail"].format(denied)).text
    assert "Not medically necessary" in text_of(detail, tid(payer, "auth-denial-reason"))
    assert "Denial Letter" in detail or "denial letter" in detail
    text = pdf_text(client.get(AUTH[payer]["pdf"].format(denied)))
    assert "Denial" in text and denied in text and "Not medically necessary" in text


def test_a_member_search_waits_for_the_index_a_number_search_does_not(client: TestClient, payer: str) -> None:
    client.patch("/_mock/knobs", json={"auth_index_delay_minutes": 60})
    reference = submit_auth(client, payer, "SYN100001")
    search = AUTH[payer]["search"]
    assert rows(payer, client.get(search, params={"member_id": "SYN100001"}).text, "auth") == 0
    assert rows(payer, client.get(search, params={"reference_number": reference}).text, "auth") == 1
    client.post("/_mock/clock/advance", json={"seconds": 3600})
    assert rows(payer, client.get(search, params={"member_id": "SYN100001"}).text, "auth") == 1


def test_syn100025_stays_pended_past_any_follow_up_window(client: TestClient, payer: str) -> None:
    client.patch("/_mock/knobs", json={"pended_polls": 1, "pended_minutes": 1})
    reference = submit_auth(client, payer, "SYN100025")
    decision = tid(payer, "auth-decision" if payer == "acme" else "auth-status")
    client.post("/_mock/clock/advance", json={"seconds": 60 * 86400})
    for _ in range(3):
        assert "Pended" in text_of(client.get(AUTH[payer]["detail"].format(reference)).text, decision)
    client.post("/_mock/clock/advance", json={"seconds": 31 * 86400})
    found = client.get(AUTH[payer]["search"], params={"reference_number": reference}).text
    assert "Approved" in found or "Certified in Total" in found
