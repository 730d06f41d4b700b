"""Acme Health page objects for eligibility and claims: the search and claim forms, their result
pages, claim status search and claim detail. Locators go by label, role and test id only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from playwright.async_api import Locator, Page

from handlers.errors import PortalChanged
from handlers.portals.common.formats import us_date


class EligibilitySearch:
    def __init__(self, page: Page) -> None:
        self.heading = page.get_by_role("heading", name="Eligibility & Benefits")
        self.member_id = page.get_by_label("Member ID")
        self.first_name = page.get_by_label("Patient first name")
        self.last_name = page.get_by_label("Patient last name")
        self.date_of_birth = page.get_by_label("Date of birth")
        self.service_date = page.get_by_label("Date of service")
        self.service_type = page.get_by_label("Service type")
        self.provider_npi = page.get_by_label("Provider NPI")
        self.submit = page.get_by_role("button", name="Check eligibility")
        self.errors = page.get_by_test_id("error-summary")

    async def type_date_of_birth(self, iso: str) -> None:
        """The DOB input is masked: it keeps only typed digits and undoes fill() and paste, so the
        date is typed key by key (the slashes are dropped by the mask, or typed when unmasked)."""
        wanted = us_date(iso)
        field = self.date_of_birth
        await field.click()
        for _ in range(12):
            if not await field.input_value():
                break
            await field.press("End")
            await field.press("Backspace")
        await field.press_sequentially(wanted)
        if await field.input_value() != wanted:
            raise PortalChanged("The date of birth input did not take the typed date.")


class EligibilityResultPage:
    def __init__(self, page: Page) -> None:
        self.heading = page.get_by_role("heading", name="Eligibility result")
        self.control_number = page.get_by_test_id("eligibility-control-number")
        self.checked_at = page.get_by_test_id("checked-at")
        self.rejection = page.get_by_test_id("eligibility-rejection")
        self.aaa_code = page.get_by_test_id("aaa-code")
        self.coverage_status = page.get_by_test_id("coverage-status")
        self.plan_name = page.get_by_test_id("plan-name")
        self.group_number = page.get_by_test_id("group-number")
        self.coverage_dates = page.get_by_test_id("coverage-dates")
        self.network = page.get_by_test_id("network")
        self.copay = page.get_by_test_id("copay")
        self.coinsurance = page.get_by_test_id("coinsurance")
        self.deductible_total = page.get_by_test_id("deductible-total")
        self.deductible_remaining = page.get_by_test_id("deductible-remaining")
        self.oop_total = page.get_by_test_id("oop-total")
        self.oop_remaining = page.get_by_test_id("oop-remaining")
        self.payer_notes = page.get_by_test_id("payer-notes")


class ClaimForm:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", name="Submit a professional claim")
        self.member_id = page.get_by_label("Member ID")
        self.first_name = page.get_by_label("Patient first name")
        self.last_name = page.get_by_label("Patient last name")
        self.date_of_birth = page.get_by_label("Patient date of birth")
        self.account_number = page.get_by_label("Patient account number")
        self.billing_npi = page.get_by_label("Billing provider NPI")
        self.tax_id = page.get_by_label("Federal tax ID (EIN)")
        self.rendering_npi = page.get_by_label("Rendering provider NPI")
        self.more_diagnoses = page.get_by_text("More diagnosis codes (E-L)")
        self.lines = page.get_by_test_id("service-line")
        self.add_line = page.get_by_role("button", name="Add service line")
        self.frequency = page.get_by_label("Claim frequency")
        self.original_claim = page.get_by_label("Original claim number")
        self.prior_auth = page.get_by_label("Prior authorization number")
        self.submit = page.get_by_role("button", name="Submit claim")
        self.errors = page.get_by_test_id("error-summary")
        self.duplicate_blocked = page.get_by_test_id("duplicate-blocked")
        self.duplicate_of = page.get_by_test_id("duplicate-of")

    def diagnosis(self, slot: str) -> Locator:
        return self.page.get_by_label(f"Diagnosis code {slot}")

    def line(self, number: int) -> Locator:
        return self.page.get_by_role("group", name=f"Service line {number}", exact=True)

    def place_of_service(self, number: int) -> Locator:
        return self.line(number).get_by_label("Place of service")

    def line_boxes(self, number: int, line: Mapping[str, Any]) -> list[tuple[Locator, str]]:
        """Every box of a line with what goes in it, but the place of service (a drop-down the
        step chooses in)."""
        group = self.line(number)
        return [
            (group.get_by_label("Date of service"), us_date(line["service_date"])),
            (group.get_by_label("Procedure code (CPT/HCPCS)"), line["procedure_code"]),
            (group.get_by_label("Modifiers"), " ".join(line.get("modifiers") or [])),
            (group.get_by_label("Units"), str(line.get("units", 1))),
            (group.get_by_label("Charge"), str(line["charge"])),
            (group.get_by_label("Diagnosis pointers"), "".join(line.get("diagnosis_pointers") or ["A"])),
        ]


class ClaimDuplicateWarning:
    """Shown instead of a confirmation when the duplicate mode is "warn" (soft duplicate)."""

    def __init__(self, page: Page) -> None:
        self.warning = page.get_by_test_id("duplicate-warning")
        self.duplicate_of = page.get_by_test_id("duplicate-of")
        self.cancel = page.get_by_role("link", name="Cancel")


class ClaimResultPage:
    def __init__(self, page: Page) -> None:
        self.accepted = page.get_by_role("heading", name="Claim submitted")
        self.rejected = page.get_by_test_id("claim-rejected")
        self.claim_number = page.get_by_test_id("claim-number")
        self.status = page.get_by_test_id("claim-result-status")
        self.submitted_at = page.get_by_test_id("submitted-at")
        self.total_charge = page.get_by_test_id("total-charge")
        self.reasons = page.get_by_test_id("rejection-reason")
        self.trace_number = page.get_by_test_id("trace-number")


class ClaimSearch:
    def __init__(self, page: Page) -> None:
        self.heading = page.get_by_role("heading", name="Claim status")
        self.claim_number = page.get_by_label("Claim number")
        self.member_id = page.get_by_label("Member ID")
        self.service_from = page.get_by_label("Service date from")
        self.service_to = page.get_by_label("Service date to")
        self.billing_npi = page.get_by_label("Billing provider NPI")
        self.search = page.get_by_role("button", name="Search claims")
        self.rows = page.get_by_test_id("claim-row")
        self.no_results = page.get_by_test_id("no-results")
        self.errors = page.get_by_test_id("error-summary")

    def claim(self, claim_number: str) -> Locator:
        """A result row's link to the claim (named by its number)."""
        return self.rows.get_by_role("link", name=claim_number, exact=True)


class ClaimDetail:
    def __init__(self, page: Page) -> None:
        self.claim_number = page.get_by_test_id("claim-number")
        self.status = page.get_by_test_id("claim-status")
        self.status_category = page.get_by_test_id("claim-status-category")  # "F1 - Finalized/Payment"
        self.total_charge = page.get_by_test_id("total-charge")
        self.paid_amount = page.get_by_test_id("paid-amount")
        self.paid_date = page.get_by_test_id("paid-date")
        self.payment_method = page.get_by_test_id("payment-method")
        self.payment_number = page.get_by_test_id("payment-number")
        self.adjustment_rows = page.get_by_test_id("claim-adjustments").get_by_test_id("adjustment-row")
        self.eob = page.get_by_test_id("eob-download")
        self.denial_reason = page.get_by_test_id("denial-reason")
        self.file_appeal = page.get_by_role("link", name="File appeal")
        self.appeal_on_file = page.get_by_test_id("appeal-on-file")
