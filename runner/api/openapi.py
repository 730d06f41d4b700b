"""The OpenAPI document, with this installation's limits in the bodies that are read by hand.

`POST /tasks`, `/tasks/{id}/input` and `/batches` read their bodies with `bodies.py`, not with
pydantic, so their schemas are written out beside the routes. The limits that come from settings
are filled in here when the document is first built, so that a body the document allows is one
validation accepts: `data` text at most SOPWRIGHT_MAX_DATA_CHARS characters, at most
SOPWRIGHT_MAX_FILES `files`, at most SOPWRIGHT_BATCH_MAX_ROWS `rows` in a batch.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from runner.core.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()  # a fresh dict: the routes' schemas are copied into it
        _fill_limits(document, settings)
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it


def _fill_limits(document: dict[str, Any], settings: Settings) -> None:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                properties = media.get("schema", {}).get("properties", {})
                if "rows" in properties:
                    properties["rows"]["maxItems"] = settings.batch_max_rows
                if "files" in properties:
                    properties["files"]["maxItems"] = settings.max_files
                if "data" in properties:
                    data = properties["data"]
                    for variant in [data, *data.get("anyOf", [])]:
                        if variant.get("type") == "string":
                            variant["maxLength"] = settings.max_data_chars
