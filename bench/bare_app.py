"""The comparison for `bench/api.py`: a bare FastAPI `POST /tasks` that validates the same JSON body
and answers a task-sized JSON object without storing anything (no auth, no parsing, no database).

    python -m uvicorn bare_app:app --app-dir bench --port 8001
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class NewTask(BaseModel):
    type: str
    data: str | None = None


@app.post("/tasks")
def create(body: NewTask) -> dict[str, object]:
    now = datetime.now(UTC).isoformat()
    return {
        "id": str(uuid.uuid4()),
        "type": body.type,
        "status": "pending",
        "data": body.data,
        "createdAt": now,
    }


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
