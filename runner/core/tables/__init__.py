"""SQLModel tables. API shapes are not tables: see `runner.api.schemas` for what clients see.

All tables are imported here so that `SQLModel.metadata` is complete for Alembic.
"""

from runner.core.tables.accounts import (
    Account,
    ApiKey,
    PortalCredential,
    PortalSession,
    SavedSession,
    SopOverride,
)
from runner.core.tables.base import metadata, utcnow
from runner.core.tables.batches import Batch, Schedule
from runner.core.tables.operators import Operator, OperatorSession
from runner.core.tables.portals import PortalHealth
from runner.core.tables.public_ids import PublicIdCounter, next_public_id
from runner.core.tables.tasks import Task, TaskEvent, TaskFile, Trajectory, TrajectoryStep
from runner.core.tables.webhooks import WebhookAttempt, WebhookDelivery

__all__ = [
    "Account",
    "ApiKey",
    "Batch",
    "Operator",
    "OperatorSession",
    "PortalCredential",
    "PortalHealth",
    "PortalSession",
    "PublicIdCounter",
    "SavedSession",
    "Schedule",
    "SopOverride",
    "Task",
    "TaskEvent",
    "TaskFile",
    "Trajectory",
    "TrajectoryStep",
    "WebhookAttempt",
    "WebhookDelivery",
    "metadata",
    "next_public_id",
    "utcnow",
]
