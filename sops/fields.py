"""The input vocabulary: canonical field names (DOMAIN.md §2), their labels, examples and aliases.

One table feeds the data-format parser (aliases, matched as `sops.aliases` describes), the input
models (which fields each task type has and requires), the SOP schema (an SOP's `inputs` must name
real fields) and the hints shown in docs and error notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sops.types import TaskType


class Kind(StrEnum):
    """How a field's raw value is read; the renderer and the note writer use it too."""

    TEXT = "text"
    DATE = "date"
    MONEY = "money"
    NUMBER = "number"
    CODES = "codes"  # a list of short codes, given comma-separated and/or on repeated keys
    LINES = "lines"  # a list of records (service lines, procedures)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    example: str
    aliases: tuple[str, ...] = ()
    kind: Kind = Kind.TEXT
    # A field that is a choice: the values it takes (the input models map synonyms onto them).
    choices: tuple[str, ...] = ()
    # A list of records (Kind.LINES): the key that starts one record in the data format.
    line_keyword: str | None = None


@dataclass(frozen=True)
class LineFieldSpec:
    """A key of one record of a list field (a service line, a procedure)."""

    name: str
    label: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    heading: str | None = None  # a short column heading where the label is long ("code")


@dataclass(frozen=True)
class FieldHint:
    """What a client needs to know about one input field of one task type."""

    name: str
    label: str
    required: bool
    example: str
    aliases: tuple[str, ...]


_SPECS = (
    FieldSpec(
        "member_id",
        "member ID",
        "300059049",
        (
            "member",
            "member id",
            "member number",
            "subscriber id",
            "subscriber",
            "insured id",
            "policy number",
            "MBI",
            "medicare id",
        ),
    ),
    FieldSpec(
        "patient_first_name", "patient first name", "Jane", ("first name", "given name", "patient first")
    ),
    FieldSpec(
        "patient_last_name",
        "patient last name",
        "Doe",
        ("last name", "surname", "family name", "patient last"),
    ),
    FieldSpec(
        "date_of_birth",
        "date of birth",
        "1990-01-15",
        ("DOB", "birth date", "birthdate", "patient DOB", "D.O.B."),
        Kind.DATE,
    ),
    FieldSpec(
        "payer",
        "payer",
        "Acme Health",
        ("payer name", "insurance", "insurer", "health plan", "carrier", "insurance company"),
    ),
    FieldSpec("provider_npi", "provider NPI", "2000000002", ("NPI", "provider", "NPI number")),
    FieldSpec("billing_npi", "billing NPI", "2000000010", ("billing provider NPI", "group NPI")),
    FieldSpec("rendering_npi", "rendering NPI", "2123456784", ("rendering provider NPI",)),
    FieldSpec(
        "requesting_npi",
        "requesting provider NPI",
        "2000000002",
        ("requesting provider NPI", "ordering NPI", "referring NPI"),
    ),
    FieldSpec(
        "servicing_npi", "servicing provider NPI", "2123456784", ("servicing provider NPI", "facility NPI")
    ),
    FieldSpec("tax_id", "tax ID (EIN)", "12-3456789", ("TIN", "EIN", "federal tax id", "tax id number")),
    FieldSpec(
        "service_date",
        "service date",
        "2025-03-20",
        ("date of service", "DOS", "visit date", "appointment date"),
        Kind.DATE,
    ),
    FieldSpec("service_type", "service type code", "30", ("service type code", "STC")),
    FieldSpec("place_of_service", "place of service", "11", ("POS", "place of service code")),
    FieldSpec(
        "diagnosis_codes",
        "diagnosis codes",
        "E11.9, I10",
        (
            "diagnosis",
            "diagnoses",
            "diagnosis code",
            "dx",
            "dx codes",
            "ICD",
            "ICD10",
            "ICD-10",
            "ICD codes",
            "ICD-10 codes",
        ),
        Kind.CODES,
    ),
    FieldSpec(
        "service_lines",
        "service lines",
        "cpt=99213, units=1, charge=125.00, pointers=A",
        ("service line", "line", "lines", "line item", "charge line"),
        Kind.LINES,
        line_keyword="service line",
    ),
    FieldSpec(
        "total_charge",
        "total charge",
        "125.00",
        ("total", "total charges", "total amount", "claim total"),
        Kind.MONEY,
    ),
    FieldSpec(
        "patient_account_number",
        "patient account number",
        "ACCT-1001",
        ("account number", "patient account", "patient control number"),
    ),
    FieldSpec(
        "prior_auth_number",
        "prior authorization number",
        "AUTH-77812",
        ("prior authorization number", "authorization number", "auth number", "prior auth"),
    ),
    FieldSpec("resubmission_code", "resubmission code", "7", ("frequency code", "claim frequency code")),
    FieldSpec(
        "original_claim_number",
        "original claim number",
        "2025031800123",
        ("original claim", "original ICN", "claim being appealed"),
    ),
    # The payer's number for a claim: an appeal's and a resubmission's `original_claim_number`
    # take it when they are not given one (see SYNONYMS).
    FieldSpec(
        "claim_number",
        "claim number",
        "2025031800123",
        ("claim number", "claim #", "claim no", "claim id", "payer claim number", "ICN", "DCN"),
    ),
    FieldSpec(
        "procedures",
        "procedures",
        "code=97110, units=12, unit_type=visits",
        ("procedure", "procedure line", "requested service"),
        Kind.LINES,
        line_keyword="procedure",
    ),
    FieldSpec(
        "service_from",
        "service start date",
        "2025-04-01",
        ("from", "from date", "start date", "service start"),
        Kind.DATE,
    ),
    FieldSpec(
        "service_to",
        "service end date",
        "2025-06-30",
        ("to", "to date", "end date", "service end"),
        Kind.DATE,
    ),
    # A claim's dates of service, to find it by member (a claim status lookup).
    FieldSpec(
        "service_date_from",
        "first date of service",
        "2025-03-20",
        ("service date from", "date of service from", "DOS from", "first date of service"),
        Kind.DATE,
    ),
    FieldSpec(
        "service_date_to",
        "last date of service",
        "2025-03-20",
        (
            "service date to",
            "date of service to",
            "DOS to",
            "through date of service",
            "last date of service",
        ),
        Kind.DATE,
    ),
    FieldSpec(
        "procedure_code",
        "procedure code",
        "97110",
        ("cpt", "cpt code", "hcpcs", "hcpcs code", "procedure code"),
    ),
    FieldSpec(
        "reference_number",
        "reference number",
        "REF-5521",
        (
            "reference",
            "reference no",
            "ref number",
            "ref #",
            "request number",
            "case number",
            "auth reference",
            "authorization reference",
        ),
    ),
    FieldSpec(
        "certification_number",
        "certification number",
        "AUTH-77812",
        ("certification", "cert number", "cert #", "approval number", "authorization certification"),
    ),
    FieldSpec(
        "urgency", "urgency", "standard", ("priority", "review type"), choices=("expedited", "standard")
    ),
    FieldSpec(
        "clinical_notes",
        "clinical notes",
        "Failed 6 weeks of conservative therapy.",
        ("notes", "clinical", "clinical information", "clinical summary", "justification"),
    ),
    FieldSpec(
        "reason_category",
        "appeal reason category",
        "medical_necessity",
        ("appeal reason", "reason type", "category", "appeal type"),
        choices=(
            "authorization",
            "bundling",
            "coordination_of_benefits",
            "corrected_coding",
            "duplicate",
            "medical_necessity",
            "other",
            "timely_filing",
        ),
    ),
    FieldSpec(
        "reason_text",
        "appeal reason",
        "Office notes attached show medical necessity.",
        ("reason", "explanation", "appeal text", "description", "details"),
    ),
    FieldSpec("contact_name", "contact name", "Pat Clerk", ("contact",)),
    FieldSpec(
        "contact_phone",
        "contact phone",
        "555-201-0100",
        ("phone", "phone number", "callback number", "telephone"),
    ),
)
FIELDS: dict[str, FieldSpec] = {spec.name: spec for spec in _SPECS}

_COMMON = (
    ("member_id", True),
    ("patient_first_name", True),
    ("patient_last_name", True),
    ("date_of_birth", True),
    ("payer", True),
)

# Per task type, in the order a clerk would fill them: (field name, required).
TYPE_FIELDS: dict[TaskType, tuple[tuple[str, bool], ...]] = {
    TaskType.CHECK_ELIGIBILITY: (
        *_COMMON,
        ("provider_npi", False),
        ("service_date", False),
        ("service_type", False),
    ),
    TaskType.SUBMIT_CLAIM: (
        *_COMMON,
        ("billing_npi", True),
        ("tax_id", True),
        ("diagnosis_codes", True),
        ("service_lines", True),
        ("rendering_npi", False),
        ("service_date", False),
        ("place_of_service", False),
        ("total_charge", False),
        ("patient_account_number", False),
        ("prior_auth_number", False),
        ("resubmission_code", False),
        ("original_claim_number", False),
    ),
    TaskType.SUBMIT_PRIOR_AUTHORIZATION: (
        *_COMMON,
        ("requesting_npi", True),
        ("servicing_npi", True),
        ("diagnosis_codes", True),
        ("procedures", True),
        ("service_from", True),
        ("service_to", False),
        ("place_of_service", True),
        ("urgency", False),
        ("clinical_notes", False),
    ),
    TaskType.SUBMIT_APPEAL: (
        ("original_claim_number", True),
        *_COMMON,
        ("reason_category", True),
        ("reason_text", True),
        ("contact_name", True),
        ("contact_phone", True),
        ("provider_npi", False),
        ("service_date", False),
    ),
    # Either the claim number, or the member and the dates of service (sops.inputs.rules).
    TaskType.CHECK_CLAIM_STATUS: (
        ("payer", True),
        ("claim_number", False),
        ("member_id", False),
        ("patient_first_name", False),
        ("patient_last_name", False),
        ("date_of_birth", False),
        ("service_date_from", False),
        ("service_date_to", False),
        ("billing_npi", False),
    ),
    # Either a reference or certification number, or the member, procedure and dates.
    TaskType.CHECK_AUTHORIZATION_STATUS: (
        ("payer", True),
        ("reference_number", False),
        ("certification_number", False),
        ("member_id", False),
        ("patient_first_name", False),
        ("patient_last_name", False),
        ("date_of_birth", False),
        ("procedure_code", False),
        ("service_from", False),
        ("service_to", False),
        ("requesting_npi", False),
    ),
}

# Per task type: what the required marks alone cannot say (shown with the field hints).
TYPE_RULES: dict[TaskType, str] = {
    TaskType.CHECK_CLAIM_STATUS: (
        "Give the claim number, or the member ID, patient name, date of birth and first date of "
        "service (the last date defaults to the first)."
    ),
    TaskType.CHECK_AUTHORIZATION_STATUS: (
        "Give the reference or certification number, or the member ID, patient name, date of birth, "
        "procedure code and service start date (the end date defaults to the start)."
    ),
}

# Per task type: the NPI of the provider the task acts for (a multi-provider portal session picks
# that provider's context; one of the type's fields above).
ACTING_PROVIDER: dict[TaskType, str] = {
    TaskType.CHECK_ELIGIBILITY: "provider_npi",
    TaskType.SUBMIT_CLAIM: "billing_npi",
    TaskType.SUBMIT_PRIOR_AUTHORIZATION: "requesting_npi",
    TaskType.SUBMIT_APPEAL: "provider_npi",
    TaskType.CHECK_CLAIM_STATUS: "billing_npi",
    TaskType.CHECK_AUTHORIZATION_STATUS: "requesting_npi",
}

# Per task type: a field left empty is taken from these other keys, in order (task, then defaults).
SYNONYMS: dict[TaskType, dict[str, tuple[str, ...]]] = {
    TaskType.CHECK_ELIGIBILITY: {},
    TaskType.SUBMIT_CLAIM: {
        "billing_npi": ("provider_npi",),
        "rendering_npi": ("provider_npi",),
        "service_lines": ("procedures",),
        "original_claim_number": ("claim_number",),
    },
    TaskType.SUBMIT_PRIOR_AUTHORIZATION: {
        "requesting_npi": ("provider_npi",),
        "servicing_npi": ("requesting_npi", "provider_npi"),
        "procedures": ("service_lines",),
        "service_from": ("service_date", "service_date_from"),
        "service_to": ("service_date_to",),
    },
    TaskType.SUBMIT_APPEAL: {"original_claim_number": ("claim_number",)},
    TaskType.CHECK_CLAIM_STATUS: {
        "claim_number": ("original_claim_number",),
        "billing_npi": ("provider_npi",),
        "service_date_from": ("service_date", "service_from"),
        "service_date_to": ("service_to",),
    },
    TaskType.CHECK_AUTHORIZATION_STATUS: {
        "certification_number": ("prior_auth_number",),
        "requesting_npi": ("provider_npi",),
        "service_from": ("service_date", "service_date_from"),
        "service_to": ("service_date_to",),
    },
}

# Keys of one service line / procedure (`service line: cpt=99213, units=1, ...`).
_LINE_SPECS = (
    LineFieldSpec(
        "procedure_code",
        "procedure code",
        Kind.TEXT,
        ("cpt", "cpt code", "hcpcs", "hcpcs code", "code", "procedure"),
        heading="code",
    ),
    LineFieldSpec("modifiers", "modifiers", Kind.CODES, ("modifier", "mod", "mods")),
    LineFieldSpec("units", "units", Kind.NUMBER, ("unit", "quantity", "qty", "days or units")),
    LineFieldSpec("unit_type", "unit type", Kind.TEXT, ("unit of measure",)),
    LineFieldSpec("charge", "charge", Kind.MONEY, ("charges", "amount", "fee", "line charge")),
    LineFieldSpec(
        "diagnosis_pointers",
        "diagnosis pointers",
        Kind.CODES,
        ("pointer", "pointers", "dx pointer", "dx pointers", "diagnosis pointer", "dx"),
        heading="dx pointers",
    ),
    LineFieldSpec("service_date", "service date", Kind.DATE, ("date", "dos", "date of service")),
    LineFieldSpec("place_of_service", "place of service", Kind.TEXT, ("pos",), heading="POS"),
)
LINE_FIELDS: dict[str, LineFieldSpec] = {spec.name: spec for spec in _LINE_SPECS}
# These line keys may also be given at the top level to describe a single line.
LINE_SHORTHAND = ("procedure_code", "modifiers", "units", "unit_type", "charge", "diagnosis_pointers")


def type_fields(task_type: TaskType) -> dict[str, bool]:
    """Field name -> required, for one task type."""
    return dict(TYPE_FIELDS[task_type])


def field_hints(task_type: TaskType) -> list[FieldHint]:
    """Name, label, required, example and aliases of each field of `task_type`, in form order."""
    hints = []
    for name, required in TYPE_FIELDS[task_type]:
        spec = FIELDS[name]
        aliases = spec.aliases
        if name in ("patient_first_name", "patient_last_name"):
            aliases = (*aliases, "patient (full name: 'Jane Doe' or 'Doe, Jane')")
        hints.append(FieldHint(name, spec.label, required, spec.example, aliases))
    return hints
