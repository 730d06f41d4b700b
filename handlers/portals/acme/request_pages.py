"""Acme Health page objects for prior authorization (a four-step wizard, the decision page, the
lookup) and appeals (the form, its confirmation, the list by claim number)."""

from __future__ import annotations

from playwright.async_api import Locator, Page


class AuthWizard:
    """One wizard page; which step it is shows in the step heading."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.step_heading = page.get_by_test_id("wizard-step")
        self.errors = page.get_by_test_id("error-summary")
        self.next = page.get_by_role("button", name="Next")
        self.submit = page.get_by_role("button", name="Submit request")
        # Step 1
        self.member_id = page.get_by_label("Member ID")
        self.first_name = page.get_by_label("Patient first name")
        self.last_name = page.get_by_label("Patient last name")
        self.date_of_birth = page.get_by_label("Patient date of birth")
        self.requesting_npi = page.get_by_label("Requesting provider NPI")
        self.servicing_npi = page.get_by_label("Servicing provider NPI")
        # Step 2
        self.primary_diagnosis = page.get_by_label("Primary diagnosis code")
        self.secondary_diagnosis = page.get_by_label("Secondary diagnosis code")
        self.procedures = page.get_by_test_id("procedure")
        self.start_date = page.get_by_label("Start date")
        self.end_date = page.get_by_label("End date")
        self.place_of_service = page.get_by_label("Place of service")
        # Step 3
        self.clinical_notes = page.get_by_label("Clinical notes")
        self.documents = page.get_by_label("Supporting documents")
        self.documents_hint = page.get_by_text("Up to ", exact=False)
        self.upload_errors = page.get_by_test_id("upload-errors")
        # Step 4
        self.review = page.get_by_test_id("review")

    def step(self, name: str) -> Locator:
        return self.step_heading.filter(has_text=name)

    def procedure(self, number: int) -> Locator:
        return self.page.get_by_role("group", name=f"Procedure {number}")

    def urgency(self, value: str) -> Locator:
        return self.page.get_by_role("radio", name=value.capitalize())


class AuthDecisionPage:
    """The page shown after submitting, and on every later look at the request."""

    def __init__(self, page: Page) -> None:
        self.decision = page.get_by_test_id("auth-decision")
        self.reference_number = page.get_by_test_id("auth-reference-number")
        self.certification_number = page.get_by_test_id("auth-certification-number")
        self.submitted_at = page.get_by_test_id("submitted-at")
        self.effective_date = page.get_by_test_id("auth-effective-date")
        self.expiration_date = page.get_by_test_id("auth-expiration-date")
        self.denial_reason = page.get_by_test_id("auth-denial-reason")
        self.procedure_rows = page.get_by_test_id("auth-procedures").get_by_role("row")
        self.service_dates = page.get_by_test_id("auth-service-dates")
        self.decision_date = page.get_by_test_id("auth-decision-date")
        self.letter = page.get_by_test_id("auth-letter")


class AuthLookup:
    def __init__(self, page: Page) -> None:
        self.heading = page.get_by_role("heading", name="Authorization lookup")
        self.reference_number = page.get_by_label("Reference number")
        self.certification_number = page.get_by_label("Certification number")
        self.member_id = page.get_by_label("Member ID")
        self.procedure_code = page.get_by_label("Procedure code")
        self.service_from = page.get_by_label("Service date from")
        self.service_to = page.get_by_label("Service date to")
        self.search = page.get_by_role("button", name="Find authorizations")
        self.rows = page.get_by_test_id("auth-row")
        self.no_results = page.get_by_test_id("no-results")
        self.errors = page.get_by_test_id("error-summary")

    def request(self, reference: str) -> Locator:
        """A result row's link to the request (named by its reference number)."""
        return self.rows.get_by_role("link", name=reference, exact=True)


class AppealForm:
    def __init__(self, page: Page) -> None:
        self.heading = page.get_by_role("heading", name="File an appeal")
        self.claim_number = page.get_by_label("Claim number")
        self.member_id = page.get_by_label("Member ID")
        self.first_name = page.get_by_label("Patient first name")
        self.last_name = page.get_by_label("Patient last name")
        self.date_of_birth = page.get_by_label("Patient date of birth")
        self.reason = page.get_by_label("Reason for appeal")
        self.explanation = page.get_by_label("Explain why the claim should be reconsidered")
        self.documents = page.get_by_label("Supporting documents")
        self.documents_hint = page.get_by_text("Up to ", exact=False)
        self.contact_name = page.get_by_label("Contact name")
        self.contact_phone = page.get_by_label("Contact phone")
        self.submit = page.get_by_role("button", name="Submit appeal")
        self.errors = page.get_by_test_id("error-summary")
        self.upload_errors = page.get_by_test_id("upload-errors")


class AppealReceived:
    def __init__(self, page: Page) -> None:
        self.heading = page.get_by_role("heading", name="Appeal received")
        self.tracking_number = page.get_by_test_id("appeal-tracking-number")
        self.status = page.get_by_test_id("appeal-status")
        self.submitted_at = page.get_by_test_id("submitted-at")


class AppealList:
    def __init__(self, page: Page) -> None:
        self.heading = page.get_by_role("heading", name="Appeals", exact=True)
        self.claim_number = page.get_by_label("Claim number")
        self.search = page.get_by_role("button", name="Find appeals")
        self.rows = page.get_by_test_id("appeal-row")
        self.no_results = page.get_by_test_id("no-results")
