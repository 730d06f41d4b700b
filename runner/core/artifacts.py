"""Where an attempt's screenshots and traces live, and their pruning after the retention period.

Artifacts show PHI: they live under the data dir (`artifacts/<account>/<task>/<trajectory>/`),
are served only to the owning account, and are deleted after `retention_days`.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def dir_for(self, account_id: str, task_id: str, trajectory_id: str) -> Path:
        path = self.root / account_id / task_id / trajectory_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def resolve(self, relative: str) -> Path:
        """An artifact path recorded in the database, confined to the store."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("artifact path escapes the store")
        return path

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def prune(self, *, older_than_days: float, now: float | None = None) -> int:
        """Delete trajectory folders last written before the cutoff; returns how many."""
        cutoff = (now if now is not None else time.time()) - older_than_days * 86_400
        removed = 0
        if not self.root.exists():
            return 0
        for trajectory in self.root.glob("*/*/*"):
            if trajectory.is_dir() and _newest_mtime(trajectory) < cutoff:
                shutil.rmtree(trajectory, ignore_errors=True)
                removed += 1
        return removed


def _newest_mtime(folder: Path) -> float:
    times = [p.stat().st_mtime for p in folder.rglob("*") if p.is_file()]
    return max(times, default=folder.stat().st_mtime)
