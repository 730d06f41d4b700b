"""The error boundary: an unexpected error is a 500 with an incident id and no stack trace, and
never claims that nothing was saved (it may come after a commit; issue 15, item 2)."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from runner.api import errors


def broken_app() -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.api_route("/broken", methods=["GET", "POST"])
    def broken() -> None:
        raise RuntimeError("secret detail of member 300059049")

    return app


def test_an_unexpected_error_after_a_write_says_how_to_find_out(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR), TestClient(broken_app(), raise_server_exceptions=False) as client:
        response = client.post("/broken")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert "nothing was saved" not in error["message"]
    assert "may have taken effect" in error["message"] and "Idempotency-Key" in error["message"]
    assert "300059049" not in response.text and "Traceback" not in response.text
    incident = error["message"].split("(incident ")[1].split(")")[0]
    assert any(incident in record.getMessage() for record in caplog.records)


def test_an_unexpected_error_on_a_read_is_short() -> None:
    with TestClient(broken_app(), raise_server_exceptions=False) as client:
        response = client.get("/broken")
    assert response.status_code == 500
    message = response.json()["error"]["message"]
    assert message.startswith("Something went wrong on our side (incident ") and message.endswith(").")


def test_the_openapi_document_names_the_scheme_every_status_and_every_body(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: `Authorization: Bearer sk_...`.",
    }
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            assert operation.get("security") == [{"HTTPBearer": []}], (method, path)
            assert {"401", "404", "422", "429", "500"} <= set(operation["responses"]), (method, path)
            error = operation["responses"]["422"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorBody"}
    for path in ("/tasks", "/tasks/{task_id}/input"):
        content = doc["paths"][path]["post"]["requestBody"]["content"]
        assert set(content) == {"application/json", "multipart/form-data"}, path


def test_post_tasks_documents_its_idempotency_key_as_fastapi_documents_post_batches(
    client: TestClient,
) -> None:
    """`POST /tasks` reads the header by hand and declares it in `openapi_extra`
    (`schemas.IDEMPOTENCY_KEY_PARAMETER`); `POST /batches` declares `IdempotencyKey` and FastAPI
    documents it. A change to one that misses the other shows here."""
    paths = client.get("/openapi.json").json()["paths"]

    def header(path: str) -> list[dict[str, object]]:
        parameters = paths[path]["post"].get("parameters", [])
        return [p for p in parameters if str(p["name"]).lower() == "idempotency-key"]

    assert header("/tasks") == header("/batches") != []
