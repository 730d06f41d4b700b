"""Beacon Exchange page objects inside the workspace iframe, for eligibility and claims: the
payer typeahead, the inquiry and its response, the 837P claim form (rows added in the browser),
its answers, claim status search and claim detail."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from playwright.async_api import FrameLocator, Locator, Page


def exact_label(root: Page | FrameLocator, text: str) -> Locator:
    """A control by its whole label; required fields' labels end in a "*" that screen readers
    skip but label matching sees, so an exact match allows it."""
    return root.get_by_label(re.compile(rf"^{re.escape(text)}\s*\*?$"))


class PayerTypeahead:
    """An async combobox: typing fetches matches into a listbox; only picking an option sets the
    payer (a hidden payer id), typed text alone is refused by the form."""

    def __init__(self, frame: FrameLocator) -> None:
        self.input = frame.get_by_role("combobox", name="Payer")
        self.listbox = frame.get_by_role("listbox", name="Payers")
        self.options = self.listbox.get_by_role("option")

    def option(self, name: str) -> Locator:
        return self.listbox.get_by_role("option", name=name, exact=True)


class EligibilityInquiry:
    def __init__(self, frame: FrameLocator) -> None:
        self.heading = frame.get_by_role("heading", name="Eligibility and Benefits Inquiry")
        self.payer = PayerTypeahead(frame)
        self.member_id = frame.get_by_label("Patient Member ID")
        self.first_name = frame.get_by_label("Patient First Name")
        self.last_name = frame.get_by_label("Patient Last Name")
        self.date_of_birth = frame.get_by_label("Patient Date of Birth")
        self.service_date = frame.get_by_label("Service Date")
        self.service_type = frame.get_by_label("Benefit/Service Type")
        self.submit = frame.get_by_role("button", name="Submit inquiry")
        self.errors = frame.get_by_test_id("bx-error-summary")


class EligibilityResponse:
    def __init__(self, frame: FrameLocator) -> None:
        self.heading = frame.get_by_role("heading", name="Eligibility and Benefits Response")
        self.control_number = frame.get_by_test_id("bx-control-number")
        self.checked_at = frame.get_by_test_id("bx-checked-at")
        self.rejection = frame.get_by_test_id("bx-eligibility-error")
        self.aaa_code = frame.get_by_test_id("bx-aaa-code")
        self.coverage_status = frame.get_by_test_id("bx-coverage-status")
        self.plan_name = frame.get_by_test_id("bx-plan-name")
        self.group_number = frame.get_by_test_id("bx-group-number")
        self.plan_begin = frame.get_by_test_id("bx-plan-begin")
        self.plan_end = frame.get_by_test_id("bx-plan-end")
        self.network = frame.get_by_test_id("bx-network")
        self.copay = frame.get_by_test_id("bx-copay")
        self.coinsurance = frame.get_by_test_id("bx-coinsurance")
        self.deductible_total = frame.get_by_test_id("bx-deductible-total")
        self.deductible_remaining = frame.get_by_test_id("bx-deductible-remaining")
        self.oop_total = frame.get_by_test_id("bx-oop-total")
        self.oop_remaining = frame.get_by_test_id("bx-oop-remaining")
        self.payer_notes = frame.get_by_test_id("bx-payer-notes")


class ClaimForm:
    def __init__(self, frame: FrameLocator) -> None:
        self.frame = frame
        self.heading = frame.get_by_role("heading", name="Professional Claim (837P)")
        self.payer = PayerTypeahead(frame)
        self.member_id = frame.get_by_label("Patient Member ID")
        self.first_name = frame.get_by_label("Patient First Name")
        self.last_name = frame.get_by_label("Patient Last Name")
        self.date_of_birth = frame.get_by_label("Patient Date of Birth")
        self.account_number = frame.get_by_label("Patient Account Number")
        self.billing_npi = frame.get_by_label("Billing NPI")
        self.tax_id = frame.get_by_label("Billing Tax ID")
        self.rendering_npi = frame.get_by_label("Rendering NPI")
        self.lines = frame.get_by_test_id("bx-service-line")
        self.add_line = frame.get_by_role("button", name="Add service line")
        self.frequency = frame.get_by_label("Claim Frequency Code")
        self.original_claim = frame.get_by_label("Payer Claim Control Number")
        self.prior_auth = frame.get_by_label("Prior Authorization Number")
        self.submit = frame.get_by_role("button", name="Submit claim")
        self.errors = frame.get_by_test_id("bx-error-summary")

    def diagnosis(self, number: int, slot: str) -> Locator:
        return exact_label(self.frame, f"Diagnosis {number} ({slot})")

    def line_field(self, number: int, name: str) -> Locator:
        return exact_label(self.frame, f"Line {number} {name}")

    def line_boxes(self, number: int, line: Mapping[str, Any]) -> list[tuple[Locator, str]]:
        """Every box of a line with what goes in it, but the place of service (a drop-down the
        step chooses in)."""
        return [
            (self.line_field(number, "Service Date"), line["service_date"]),
            (self.line_field(number, "Procedure Code"), line["procedure_code"]),
            (self.line_field(number, "Modifiers"), " ".join(line.get("modifiers") or [])),
            (self.line_field(number, "Units"), str(line.get("units", 1))),
            (self.line_field(number, "Charges"), str(line["charge"])),
            (self.line_field(number, "Diagnosis Pointer"), "".join(line.get("diagnosis_pointers") or ["A"])),
        ]


class ClaimDuplicateWarning:
    def __init__(self, frame: FrameLocator) -> None:
        self.warning = frame.get_by_test_id("bx-duplicate-warning")
        self.duplicate_of = frame.get_by_test_id("bx-duplicate-of")
        self.cancel = self.warning.get_by_role("link", name="Cancel")


class ClaimAnswer:
    def __init__(self, frame: FrameLocator) -> None:
        self.acknowledged = frame.get_by_role("heading", name="Claim Acknowledged")
        self.rejected = frame.get_by_test_id("bx-claim-rejected")
        self.claim_id = frame.get_by_test_id("bx-claim-id")
        self.status = frame.get_by_test_id("bx-claim-status")
        self.submitted_at = frame.get_by_test_id("bx-submitted-at")
        self.total_charge = frame.get_by_test_id("bx-total-charge")
        self.reasons = frame.get_by_test_id("bx-rejection-reason")
        self.trace_number = frame.get_by_test_id("bx-trace-number")


class ClaimStatusInquiry:
    def __init__(self, frame: FrameLocator) -> None:
        self.frame = frame
        self.heading = frame.get_by_role("heading", name="Claim Status Inquiry")
        self.claim_id = frame.get_by_label("Claim ID")
        self.member_id = frame.get_by_label("Patient Member ID")
        self.service_from = frame.get_by_label("From Date")
        self.service_to = frame.get_by_label("To Date")
        self.billing_npi = frame.get_by_label("Billing Provider NPI")
        self.search = frame.get_by_role("button", name="Search")
        self.rows = frame.get_by_test_id("bx-claim-row")
        self.no_results = frame.get_by_test_id("bx-no-results")
        self.errors = frame.get_by_test_id("bx-error-summary")

    def view(self, claim_id: str) -> Locator:
        return self.frame.get_by_role("link", name=f"View claim {claim_id}")


class ClaimDetail:
    def __init__(self, frame: FrameLocator) -> None:
        self.claim_id = frame.get_by_test_id("bx-claim-id")
        self.status = frame.get_by_test_id("bx-claim-status")
        self.status_category = frame.get_by_test_id("bx-claim-status-category")  # "F1 - Finalized/Payment"
        self.total_charge = frame.get_by_test_id("bx-total-charge")
        self.paid_amount = frame.get_by_test_id("bx-paid-amount")
        self.paid_date = frame.get_by_test_id("bx-paid-date")  # ISO
        self.payment_method = frame.get_by_test_id("bx-payment-method")
        self.payment_number = frame.get_by_test_id("bx-payment-number")
        adjustments = frame.get_by_test_id("bx-claim-adjustments")
        self.adjustment_rows = adjustments.get_by_test_id("bx-adjustment-row")
        self.remittance = frame.get_by_test_id("bx-remittance-download")
        self.denial_reason = frame.get_by_test_id("bx-denial-reason")
        self.dispute = frame.get_by_role("link", name="Dispute this claim")
        self.dispute_on_file = frame.get_by_test_id("bx-dispute-on-file")
