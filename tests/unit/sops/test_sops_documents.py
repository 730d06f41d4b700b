"""text_from_documents: text of PDFs and plain-text files, for tasks given only files."""

from __future__ import annotations

from fpdf import FPDF

from sops.dataformat import MAX_DATA_CHARS, parse_data
from sops.inputs import text_from_documents


def pdf_with(*lines: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_pdf_and_text_files_are_read_in_order_and_parse() -> None:
    docs = [
        ("application/pdf", pdf_with("Member ID: TST100200300", "DOB: 04/12/1986")),
        ("text/plain; charset=utf-8", b"payer: Acme Health\r\n"),
        ("image/png", b"\x89PNG\r\n\x1a\n"),
    ]
    raw = parse_data(text_from_documents(docs))
    assert raw["member_id"] == "TST100200300"
    assert raw["date_of_birth"] == "04/12/1986"
    assert raw["payer"] == "Acme Health"


def test_windows_1252_text_and_control_characters_are_made_safe() -> None:
    text = text_from_documents([("text/plain", b"payer: Caf\xe9 Health\x00\x1b\n")])
    assert text == "payer: Café Health"
    parse_data(text)


def test_an_unreadable_pdf_is_skipped() -> None:
    assert text_from_documents([("application/pdf", b"%PDF-1.7\nnot really a pdf")]) == ""


def test_no_documents_give_no_text() -> None:
    assert text_from_documents([]) == ""


def test_the_combined_text_is_capped_so_parse_data_accepts_it() -> None:
    big = ("payer: Acme Health\n" * 20_000).encode()
    text = text_from_documents([("text/plain", big), ("text/plain", big), ("text/plain", big)])
    assert len(text) <= MAX_DATA_CHARS
    assert parse_data(text)["payer"] == "Acme Health"
