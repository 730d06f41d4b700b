"""Document uploads with a payer's limits: file count, size per file, total size, extensions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile

from mock_portal.knobs import Knobs


@dataclass(frozen=True)
class Document:
    name: str
    size: int
    content_type: str
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "content_type": self.content_type,
            "sha256": self.sha256,
        }


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


def check_documents(
    files: list[tuple[str, bytes, str]], knobs: Knobs, already: int = 0, already_bytes: int = 0
) -> tuple[list[Document], list[str]]:
    """Accepted documents and one error per refused file, in the portal's words."""
    accepted: list[Document] = []
    errors: list[str] = []
    total = already_bytes
    allowed = {ext.lower().lstrip(".") for ext in knobs.upload_extensions}
    for name, data, content_type in files:
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if already + len(accepted) >= knobs.upload_max_files:
            errors.append(f"{name}: you can attach at most {knobs.upload_max_files} files.")
        elif ext not in allowed:
            listed = ", ".join(sorted(allowed))
            errors.append(f"{name}: files of type .{ext or '?'} are not accepted. Allowed: {listed}.")
        elif not data:
            errors.append(f"{name}: the file is empty.")
        elif len(data) > knobs.upload_max_file_bytes:
            errors.append(f"{name}: the file is larger than {_mb(knobs.upload_max_file_bytes)}.")
        elif total + len(data) > knobs.upload_max_total_bytes:
            errors.append(f"{name}: attachments may not exceed {_mb(knobs.upload_max_total_bytes)} in total.")
        elif ext == "pdf" and not data.startswith(b"%PDF"):
            errors.append(f"{name}: the file is not a valid PDF.")
        else:
            total += len(data)
            accepted.append(Document(name, len(data), content_type, hashlib.sha256(data).hexdigest()))
    return accepted, errors


async def read_uploads(values: list[Any]) -> list[tuple[str, bytes, str]]:
    """(name, bytes, content type) of each non-empty file field value of a submitted form.

    Every upload is closed here (empty file inputs too), so no spooled temp file is left open.
    """
    out = []
    for value in values:
        if not isinstance(value, UploadFile):
            continue
        if value.filename:
            out.append((value.filename, await value.read(), value.content_type or "application/octet-stream"))
        await value.close()
    return out
