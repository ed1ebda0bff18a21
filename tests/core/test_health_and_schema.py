"""Readiness reflects the real services; the migrations describe exactly the models."""

from __future__ import annotations

from fastapi.testclient import TestClient

from o2o.migrate import drift


def test_healthz_and_readyz_report_real_services(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["redis"] == "ok"
    assert checks["postgis"].startswith("3.")


def test_metrics_are_exposed_in_prometheus_format(client: TestClient) -> None:
    client.get("/healthz")
    body = client.get("/metrics").text
    assert "o2o_http_request_duration_seconds_bucket" in body
    assert 'route="/healthz"' in body


def test_models_and_migrations_do_not_drift(database: str) -> None:
    assert drift(database) == []
