"""The documents an attempt keeps from the portal (a confirmation page as a PDF, a letter, an
EOB): the runner's `DocumentSink` (handlers/documents.py), one per attempt.

A document lands in the task's own artifact folder only; it is checked as an upload is (size,
type by content and by name, `runner.core.files`), stored in the file store by content hash and
recorded as a task file with `source: portal` and its `kind`, fenced by the lease. A task keeps
at most as many portal documents, and as many bytes of them, as one upload may bring; the same
bytes kept twice are one file. The landed copy is removed whatever happens. Logs carry the task
and file ids, the kind and the size: never the file's name (it may name the patient).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from handlers.documents import DocumentRefused, KeptDocument
from runner.core.db import session_scope
from runner.core.errors import InvalidRequest, TooLarge, UploadRejected
from runner.core.files import FileStore, Upload, UploadLimits, check_portal_file
from runner.core.queue import Lease, LeaseLost, Queue
from runner.core.states import FileSource
from runner.core.tables import TaskFile
from sops.types import DocumentKind

log = logging.getLogger(__name__)


class PortalFiles:
    def __init__(
        self,
        engine: sa.Engine,
        queue: Queue,
        lease: Lease,
        *,
        files: FileStore,
        limits: UploadLimits,
        folder: Path,
    ) -> None:
        self._engine = engine
        self._queue = queue
        self._lease = lease
        self._files = files
        self._limits = limits
        self._folder = folder

    @property
    def folder(self) -> Path:
        return self._folder

    async def keep(self, path: Path, *, filename: str, kind: DocumentKind) -> KeptDocument:
        return await asyncio.to_thread(self._keep, path, filename, kind)

    def _keep(self, path: Path, filename: str, kind: DocumentKind) -> KeptDocument:
        extra = {"task_id": self._lease.task_id, "kind": kind.value}
        try:
            upload = check_portal_file(filename, self._read(path), self._limits)
            return self._store(upload, kind)
        except LeaseLost:
            raise  # the task is no longer this worker's: the attempt stops
        except (UploadRejected, InvalidRequest) as exc:
            log.warning("portal document refused", extra={**extra, "error": type(exc).__name__})
            raise DocumentRefused(exc.message) from None
        except Exception as exc:  # the disk, the database: evidence only, never the task's end
            log.warning("portal document not stored", extra={**extra, "error": type(exc).__name__})
            raise DocumentRefused("it could not be stored") from None
        finally:
            if path.resolve().parent == self._folder.resolve():  # never a file outside the folder
                path.unlink(missing_ok=True)

    def _read(self, path: Path) -> bytes:
        landed = path.resolve()
        if landed.parent != self._folder.resolve():
            raise InvalidRequest("A portal document may only land in its task's artifact folder.")
        size = landed.stat().st_size
        if size > self._limits.max_file_bytes:
            raise TooLarge(
                f"The file is {_mb(size)}; the limit is {_mb(self._limits.max_file_bytes)} per file.",
                max_file_bytes=self._limits.max_file_bytes,
            )
        return landed.read_bytes()

    def _store(self, upload: Upload, kind: DocumentKind) -> KeptDocument:
        with session_scope(self._engine) as session:
            task = self._queue.hold(session, self._lease)
            kept = session.exec(
                select(TaskFile).where(TaskFile.task_id == task.id, TaskFile.source == FileSource.PORTAL)
            ).all()
            same = next((f for f in kept if f.sha256 == upload.sha256), None)
            if same is not None:
                return _kept(same)
            if len(kept) >= self._limits.max_files:
                raise TooLarge(
                    f"The task already has {len(kept)} documents from the portal, the most it keeps.",
                    max_files=self._limits.max_files,
                )
            if sum(f.size for f in kept) + len(upload.content) > self._limits.max_total_bytes:
                raise TooLarge(
                    f"The task's documents from the portal would add up to more than "
                    f"{_mb(self._limits.max_total_bytes)}.",
                    max_total_bytes=self._limits.max_total_bytes,
                )
            self._files.put(upload)
            row = TaskFile(
                task_id=task.id,
                account_id=task.account_id,
                filename=upload.filename,
                content_type=upload.content_type,
                size=len(upload.content),
                sha256=upload.sha256,
                source=FileSource.PORTAL,
                kind=kind,
            )
            session.add(row)
        log.info(
            "portal document kept",
            extra={"task_id": task.id, "file_id": row.id, "kind": kind.value, "size": row.size},
        )
        return _kept(row)


def _kept(row: TaskFile) -> KeptDocument:
    return KeptDocument(
        file_id=row.id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        kind=row.kind or DocumentKind.DOCUMENT,
    )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
