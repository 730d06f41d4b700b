"""Task documents (uploaded, or kept from the portal): limits, type checks by content (not by
name), content-addressed storage."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runner.core.errors import InvalidRequest, TooLarge, UnsupportedType
from runner.core.private import private_dir

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
ACCEPTED_TYPES = ("PDF", "PNG", "JPEG", "TIFF", "plain text")
# What a document's name says it is; a portal's document must be what its name says.
_NAMED_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".txt": "text/plain",
}
_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/tiff": ".tif"}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def sniff(content: bytes) -> str | None:
    """The media type of `content` judged by its bytes, or None if it is not one we accept."""
    for magic, media_type in _SIGNATURES:
        if content.startswith(magic):
            return media_type
    if not content or b"\x00" in content[:8192]:
        return None
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"


def clean_filename(name: str | None, index: int) -> str:
    base = Path(name or "").name
    base = _UNSAFE_NAME.sub("_", base).strip(" .")[:200]
    return base or f"document-{index}"


@dataclass(frozen=True)
class Upload:
    """An upload that passed the checks, not yet stored."""

    filename: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int
    max_files: int
    max_total_bytes: int


def check_uploads(raw: list[tuple[str | None, bytes]], limits: UploadLimits) -> list[Upload]:
    """Check every file before anything is stored, so a refused request stores nothing."""
    if len(raw) > limits.max_files:
        raise TooLarge(
            f"Too many files: {len(raw)} sent, at most {limits.max_files} per task.",
            files=len(raw),
            max_files=limits.max_files,
        )
    total = 0
    uploads: list[Upload] = []
    for index, (name, content) in enumerate(raw, start=1):
        filename = clean_filename(name, index)
        if len(content) > limits.max_file_bytes:
            raise TooLarge(
                f"File {filename!r} is {_mb(len(content))}; "
                f"the limit is {_mb(limits.max_file_bytes)} per file.",
                file=filename,
                max_file_bytes=limits.max_file_bytes,
            )
        total += len(content)
        if total > limits.max_total_bytes:
            raise TooLarge(
                f"The files add up to more than {_mb(limits.max_total_bytes)}.",
                max_total_bytes=limits.max_total_bytes,
            )
        if not content:
            raise InvalidRequest(f"File {filename!r} is empty.", file=filename)
        media_type = sniff(content)
        if media_type is None:
            raise UnsupportedType(
                f"File {filename!r} is not a supported document; send {', '.join(ACCEPTED_TYPES)}.",
                file=filename,
                accepted=list(ACCEPTED_TYPES),
            )
        uploads.append(Upload(filename, media_type, content))
    return uploads


def check_portal_file(filename: str, content: bytes, limits: UploadLimits) -> Upload:
    """A document kept from a portal, checked as an upload is (size, type by content) and also
    against its name: a file named `.pdf` must be a PDF (start with `%PDF`). A name that says no
    document type gets the extension of what the content is."""
    [upload] = check_uploads([(filename, content)], limits)
    suffix = Path(upload.filename).suffix.lower()
    named = _NAMED_TYPES.get(suffix)
    if named is None:
        extension = _EXTENSIONS.get(upload.content_type, ".txt")
        return Upload(upload.filename + extension, upload.content_type, upload.content)
    if named != upload.content_type:
        what = suffix.lstrip(".").upper()
        raise UnsupportedType(
            f"File {upload.filename!r} is named as a {what} file, but its content is not one.",
            file=upload.filename,
            accepted=list(ACCEPTED_TYPES),
        )
    return upload


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


class FileStore:
    """Content-addressed blobs under `<data_dir>/files/ab/abcdef...`; writes are atomic."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def path_for(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("not a sha256 hex digest")
        return self._root / sha256[:2] / sha256

    def put(self, upload: Upload) -> str:
        digest = upload.sha256
        target = self.path_for(digest)
        if target.exists():
            return digest
        private_dir(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(upload.content)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()
