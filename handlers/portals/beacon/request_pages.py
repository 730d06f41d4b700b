"""Beacon Exchange page objects inside the workspace iframe, for authorizations (one long 278
form with attachments, the case page, status search) and disputes (form, confirmation without a
number, the list by claim ID)."""

from __future__ import annotations

import re

from playwright.async_api import FrameLocator, Locator

from handlers.portals.beacon.pages import PayerTypeahead


class AuthRequestForm:
    def __init__(self, frame: FrameLocator) -> None:
        self.frame = frame
        self.heading = frame.get_by_role("heading", name="Authorization Request (278)")
        self.payer = PayerTypeahead(frame)
        self.member_id = frame.get_by_label("Patient Member ID")
        self.first_name = frame.get_by_label("Patient First Name")
        self.last_name = frame.get_by_label("Patient Last Name")
        self.date_of_birth = frame.get_by_label("Patient Date of Birth")
        self.requesting_npi = frame.get_by_label("Requesting Provider NPI")
        self.servicing_npi = frame.get_by_label("Servicing Provider NPI")
        self.primary_diagnosis = frame.get_by_label("Primary Diagnosis")
        self.secondary_diagnosis = frame.get_by_label("Secondary Diagnosis")
        self.service_from = frame.get_by_label("From Date")
        self.service_to = frame.get_by_label("To Date")
        self.urgency = frame.get_by_label("Request Type")
        self.place_of_service = frame.get_by_label("Place of Service")
        self.clinical_notes = frame.get_by_label("Clinical Notes")
        self.attachments = frame.get_by_label("Attachments")
        self.attachments_hint = frame.get_by_text("Accepted:")
        self.submit = frame.get_by_role("button", name="Submit authorization request")
        self.errors = frame.get_by_test_id("bx-error-summary")
        self.upload_errors = frame.get_by_test_id("bx-upload-errors")

    def procedure(self, number: int) -> Locator:
        """The row of one requested procedure (a group named "Procedure N")."""
        return self.frame.get_by_role("group", name=f"Procedure {number}", exact=True)

    @staticmethod
    def code(row: Locator) -> Locator:
        return row.get_by_label(re.compile(r" Code\s*\*?$"))

    @staticmethod
    def quantity(row: Locator) -> Locator:
        # Labelled "Procedure N Units" (earlier "Quantity"): either is accepted.
        return row.get_by_label(re.compile(r" (Units|Quantity)\s*\*?$"))

    @staticmethod
    def quantity_type(row: Locator) -> Locator:
        return row.get_by_label(re.compile(r" (Unit|Quantity) Type\s*\*?$"))


class AuthCase:
    """The case page: right after submitting, and on every status check."""

    def __init__(self, frame: FrameLocator) -> None:
        self.case_number = frame.get_by_test_id("bx-auth-case-number")
        self.status = frame.get_by_test_id("bx-auth-status")
        self.certification_number = frame.get_by_test_id("bx-auth-certification-number")
        self.submitted_at = frame.get_by_test_id("bx-submitted-at")
        self.effective_date = frame.get_by_test_id("bx-auth-effective-date")
        self.expiration_date = frame.get_by_test_id("bx-auth-expiration-date")
        self.denial_reason = frame.get_by_test_id("bx-auth-denial-reason")
        self.procedure_rows = frame.get_by_test_id("bx-auth-procedures").get_by_role("row")
        self.service_dates = frame.get_by_test_id("bx-auth-service-dates")
        self.decision_date = frame.get_by_test_id("bx-auth-decision-date")  # ISO
        self.letter = frame.get_by_test_id("bx-auth-letter")


class AuthStatusInquiry:
    def __init__(self, frame: FrameLocator) -> None:
        self.frame = frame
        self.heading = frame.get_by_role("heading", name="Authorization Status")
        self.form = frame.get_by_role("search", name="Authorization status inquiry")
        self.case_number = frame.get_by_label("Case Number")
        self.certification_number = frame.get_by_label("Certification Number")
        self.member_id = frame.get_by_label("Patient Member ID")
        self.procedure_code = frame.get_by_label("Procedure Code")
        self.service_from = frame.get_by_label("From Date")
        self.service_to = frame.get_by_label("To Date")
        self.search = frame.get_by_role("button", name="Search")
        self.rows = frame.get_by_test_id("bx-auth-row")
        self.no_results = frame.get_by_test_id("bx-no-results")
        self.errors = frame.get_by_test_id("bx-error-summary")

    def view(self, case_number: str) -> Locator:
        return self.frame.get_by_role("link", name=f"View case {case_number}")


class DisputeForm:
    def __init__(self, frame: FrameLocator) -> None:
        self.heading = frame.get_by_role("heading", name="Claim Dispute")
        self.claim_id = frame.get_by_label("Claim ID")
        self.member_id = frame.get_by_label("Patient Member ID")
        self.first_name = frame.get_by_label("Patient First Name")
        self.last_name = frame.get_by_label("Patient Last Name")
        self.date_of_birth = frame.get_by_label("Patient Date of Birth")
        self.reason = frame.get_by_label("Dispute Reason")
        self.details = frame.get_by_label("Dispute Details")
        self.contact_name = frame.get_by_label("Contact Name")
        self.contact_phone = frame.get_by_label("Contact Phone")
        self.attachments = frame.get_by_label("Attachments")
        self.attachments_hint = frame.get_by_text("Accepted:")
        self.submit = frame.get_by_role("button", name="Submit dispute")
        self.errors = frame.get_by_test_id("bx-error-summary")
        self.upload_errors = frame.get_by_test_id("bx-upload-errors")


class DisputeSubmitted:
    def __init__(self, frame: FrameLocator) -> None:
        self.heading = frame.get_by_role("heading", name="Dispute Submitted")
        self.no_number = frame.get_by_test_id("bx-dispute-no-number")
        self.status = frame.get_by_test_id("bx-dispute-status")
        self.submitted_at = frame.get_by_test_id("bx-submitted-at")


class DisputeList:
    def __init__(self, frame: FrameLocator) -> None:
        self.heading = frame.get_by_role("heading", name="Disputes", exact=True)
        self.rows = frame.get_by_test_id("bx-dispute-row")
        self.no_results = frame.get_by_test_id("bx-no-results")
