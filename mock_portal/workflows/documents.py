"""The PDFs a payer offers for download, made with fpdf2 from the record when asked for: the EOB
(or remittance advice) of a finalized claim and the approval or denial letter of a decided auth.

Same record, same bytes: the creation date is the record's own date, not the time of the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from fpdf import FPDF

from mock_portal.models import AuthDecision, AuthRequest, Claim
from mock_portal.payers import Payer
from mock_portal.workflows.auths import expiration
from mock_portal.workflows.remittance import Statement

APPEAL_DAYS = 180
FOOTER = "SYNTHETIC DATA - produced by the sopwright mock payer portal. Not a real patient or payer."
APPROVALS = (AuthDecision.APPROVED, AuthDecision.PARTIALLY_APPROVED)


@dataclass(frozen=True)
class Document:
    kind: str  # eob, approval_letter, denial_letter
    filename: str
    content: bytes


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _day(value: date) -> str:
    return value.strftime("%m/%d/%Y")


def _pdf(payer: Payer, title: str, made: datetime, lines: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(made)
    pdf.set_title(title)
    pdf.set_author(payer.name)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, payer.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", size=10)
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(0, 5, FOOTER, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def claim_statement(payer: Payer, claim: Claim, statement: Statement) -> Document | None:
    """The EOB (Acme) or remittance advice (Beacon) of a finalized claim; None before that."""
    if not statement.finalized or statement.finalized_on is None:
        return None
    title = "Explanation of Benefits" if payer.key == "acme" else "Remittance Advice"
    lines = [
        f"Claim number: {claim.claim_number}",
        f"Patient: {claim.patient_name}   Member ID: {claim.member_id}",
        f"Billing provider NPI: {claim.billing_npi}",
        f"Claim status: {statement.category.label}",
        f"Processed: {_day(statement.finalized_on)}",
        "",
        "Service lines:",
        *(
            f"  {_day(line.service_date)}  {line.procedure_code}  {line.units} unit(s)  "
            f"billed {_money(line.charge)}"
            for line in claim.lines
        ),
        f"Total billed: {_money(claim.total_charge)}",
        f"Paid amount: {_money(claim.paid_amount)}",
        "",
        "Adjustments:",
        *(f"  {a.code}  {_money(a.amount)}  {a.reason}" for a in statement.adjustments),
    ]
    if statement.payment:
        word = "Check number" if statement.payment.method == "check" else "EFT trace number"
        lines += ["", f"Payment: {_money(statement.payment.amount)} on {_day(statement.payment.paid_on)}"]
        lines.append(f"{word}: {statement.payment.number}")
    made = claim.finalized_at or claim.submitted_at
    name = "eob" if payer.key == "acme" else "remittance"
    filename = f"{payer.key}-{name}-{claim.claim_number}.pdf"
    return Document("eob", filename, _pdf(payer, title, made, lines))


def auth_letter(payer: Payer, auth: AuthRequest) -> Document | None:
    """The approval or denial letter of a decided request; None while pended or not required."""
    if auth.decided_at is None or auth.decision not in (*APPROVALS, AuthDecision.DENIED):
        return None
    approved = auth.decision in APPROVALS
    heading = "Prior Authorization Approval" if approved else "Prior Authorization Denial"
    if auth.decision is AuthDecision.PARTIALLY_APPROVED:
        heading = "Prior Authorization Approval (partial)"
    lines = [
        f"Date of decision: {_day(auth.decided_at.date())}",
        f"Reference number: {auth.reference_number}",
        f"Patient: {auth.patient_name}   Member ID: {auth.member_id}",
        f"Requested dates of service: {_day(auth.service_from)} - {_day(auth.service_to)}",
        "",
        "Services requested:",
        *(
            f"  {p['procedure_code']}  requested {p['units']} {p['unit_type']}, "
            f"approved {p.get('approved_units', 0)}"
            for p in auth.procedures
        ),
        "",
    ]
    if approved:
        lines += [
            f"Certification number: {auth.certification_number}",
            f"Approved units: {sum(int(p.get('approved_units', 0)) for p in auth.procedures)}",
            f"Valid from {_day(auth.service_from)} through {_day(expiration(auth))}.",
            "This approval is not a guarantee of payment; benefits are subject to eligibility on the "
            "date of service.",
        ]
    else:
        appeal_by = auth.decided_at.date() + timedelta(days=APPEAL_DAYS)
        lines += [
            f"Reason for denial: {auth.denial_reason}",
            f"Your appeal rights: you or the member may appeal this decision in writing by {_day(appeal_by)} "
            f"({APPEAL_DAYS} days from the date of this letter).",
        ]
    kind = "approval_letter" if approved else "denial_letter"
    filename = f"{payer.key}-auth-{auth.reference_number}-{'approval' if approved else 'denial'}.pdf"
    return Document(kind, filename, _pdf(payer, heading, auth.decided_at, lines))
