import pytest

from runner.core import keys
from runner.core.errors import InvalidRequest, TooLarge, UnsupportedType
from runner.core.files import UploadLimits, check_uploads, clean_filename, sniff

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
LIMITS = UploadLimits(max_file_bytes=1000, max_files=3, max_total_bytes=1500)


def test_key_shape_and_hash() -> None:
    new = keys.generate()
    assert new.plaintext.startswith("sk_")
    assert keys.key_id_of(new.plaintext) == new.key_id
    assert keys.matches(new.plaintext, new.secret_hash)
    assert not keys.matches(new.plaintext + "x", new.secret_hash)
    assert new.plaintext not in new.secret_hash


@pytest.mark.parametrize("presented", ["", "sk_", "sk_abc", "pk_abc_def", "sk__secret"])
def test_malformed_keys_have_no_id(presented: str) -> None:
    assert keys.key_id_of(presented) is None


def test_webhook_secret_shape() -> None:
    assert keys.generate_webhook_secret().startswith("whsec_")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (b"II*\x00rest", "image/tiff"),
        (b"MM\x00*rest", "image/tiff"),
        ("member_id: 1\nnote: café".encode(), "text/plain"),
        (b"MZ\x90\x00\x03", None),
        (b"\xff\xfe\x00bad", None),
        (b"", None),
    ],
)
def test_sniff_by_content(content: bytes, expected: str | None) -> None:
    assert sniff(content) == expected


def test_a_pdf_name_does_not_make_an_executable_a_pdf() -> None:
    with pytest.raises(UnsupportedType, match="not a supported document"):
        check_uploads([("claim.pdf", b"MZ\x90\x00\x03\x00")], LIMITS)


def test_limits() -> None:
    with pytest.raises(TooLarge, match="Too many files"):
        check_uploads([("a.pdf", PDF)] * 4, LIMITS)
    with pytest.raises(TooLarge, match="per file"):
        check_uploads([("big.pdf", PDF + b" " * 1000)], LIMITS)
    with pytest.raises(TooLarge, match="add up"):
        check_uploads([("a.pdf", PDF + b" " * 800), ("b.pdf", PDF + b" " * 800)], LIMITS)
    with pytest.raises(InvalidRequest, match="empty"):
        check_uploads([("a.txt", b"")], LIMITS)


def test_clean_filename() -> None:
    assert clean_filename("../../etc/passwd", 1) == "passwd"
    assert clean_filename('we"ird<name>.pdf', 1) == "we_ird_name_.pdf"
    assert clean_filename(None, 2) == "document-2"
