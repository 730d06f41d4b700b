"""A claim status page's words to the result's vocabulary: the X12 277 category, CARC, payments."""

from __future__ import annotations

import pytest

from handlers.portals.common.claim_status import adjustments, choose_claim, payment_method, status_category


@pytest.mark.parametrize(
    ("shown", "paid", "category"),
    [
        ("A2 - Acknowledgement/Acceptance into adjudication system", None, "acknowledged"),
        ("A1 - Acknowledgement/Receipt", None, "acknowledged"),
        ("P1 - Pending/In Process", None, "pending"),
        ("R4 - Request for additional information", None, "pending"),
        ("F1 - Finalized/Payment", "98.40", "finalized_paid"),
        ("F2 - Finalized/Denial", "0.00", "finalized_denied"),
        ("F4 - Finalized/Adjudication Complete - No payment forthcoming", None, "finalized_denied"),
        ("F3 - Finalized/Revised", "12.00", "finalized_paid"),
        ("F3 - Finalized/Revised", "0.00", "finalized_denied"),
        ("D0 - Data search unsuccessful", None, "not_found"),
        ("", None, None),
        ("Z9 - something new", None, None),
    ],
)
def test_the_277_category_code_decides(shown: str, paid: str | None, category: str | None) -> None:
    assert status_category(shown, paid_amount=paid) == category


def test_adjustment_rows_become_codes_and_reasons() -> None:
    rows = [
        ["CO-45", "Charge exceeds fee schedule/maximum allowable", "$24.60"],
        ["co-50", "These are non-covered services", "$98.40"],
        ["", "", ""],
    ]
    assert adjustments(rows) == {
        "adjustment_codes": ["CO-45", "CO-50"],
        "adjustment_reasons": [
            "CO-45: Charge exceeds fee schedule/maximum allowable",
            "CO-50: These are non-covered services",
        ],
    }


@pytest.mark.parametrize(
    ("shown", "method"), [("Check", "check"), ("EFT", "eft"), ("ACH direct deposit", "eft"), ("", None)]
)
def test_payment_methods(shown: str, method: str | None) -> None:
    assert payment_method(shown) == method


def test_the_claim_to_open_is_the_one_named_else_the_newest() -> None:
    assert choose_claim(["C-2", "C-1"], "c-1") == "C-1"
    assert choose_claim(["C-2", "C-1"], "C-9") is None
    assert choose_claim(["C-2", "C-1"], None) == "C-2"
    assert choose_claim([], None) is None
