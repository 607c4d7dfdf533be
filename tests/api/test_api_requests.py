"""Bad input at the HTTP level: one error shape everywhere, body limits, content types, script as data."""

from __future__ import annotations

from apihelpers import error_of

from conftest import Api


def test_openapi_spec_lists_the_routes(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "whoknows"
    for path in ("/api/v1/ask", "/api/v1/route", "/api/v1/inbox", "/api/v1/admin/imports", "/api/v1/me/prefs"):
        assert path in spec["paths"], path


def test_unknown_route_and_wrong_method_use_the_error_shape(api: Api) -> None:
    error_of(api.client.get("/api/v1/nothing-here", headers=api.auth("una")), 404, "http.not_found")
    error_of(api.client.get("/api/v1/ask", headers=api.auth("una")), 405, "http.method_not_allowed")


def test_invalid_json_is_a_422_in_the_error_shape(api: Api) -> None:
    r = api.client.post("/api/v1/ask", content=b'{"question": ', headers={**api.auth("una"),
                        "Content-Type": "application/json"})  # fmt: skip
    error_of(r, 422, "request.invalid_json")


def test_validation_errors_name_the_field(api: Api) -> None:
    err = error_of(api.client.post("/api/v1/ask", json={"question": "x", "k": 0}, headers=api.auth("una")), 422,
                   "request.invalid")  # fmt: skip
    assert err["details"]["errors"][0]["loc"] == ["body", "k"] and "k" in err["message"]
    error_of(api.client.post("/api/v1/ask", json={}, headers=api.auth("una")), 422, "request.invalid")
    error_of(api.client.get("/api/v1/inbox?limit=0", headers=api.auth("una")), 422, "request.invalid")
    error_of(api.client.get("/api/v1/inbox?cursor=%%%", headers=api.auth("una")), 422, "request.bad_cursor")


def test_oversized_body_is_a_413(api: Api) -> None:
    big = {"question": "x" * 70_000}  # the test app's limit: 64 KiB
    err = error_of(api.client.post("/api/v1/ask", json=big, headers=api.auth("una")), 413, "request.too_large")
    assert err["details"]["limit_bytes"] == 64 * 1024

    def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: counted while read
        for _ in range(20):
            yield b"x" * 8192

    r = api.client.post(
        "/api/v1/ask", content=chunks(), headers={**api.auth("una"), "Content-Type": "application/json"}
    )
    error_of(r, 413, "request.too_large")


def test_wrong_content_type_is_a_415(api: Api) -> None:
    r = api.client.post("/api/v1/ask", content=b"question=hi", headers={**api.auth("una"),
                        "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    err = error_of(r, 415, "request.unsupported_media_type")
    assert err["details"]["expected"] == "application/json"
    r = api.client.post("/api/v1/admin/imports", json={"kind": "tickets"}, headers=api.auth("ada"))
    error_of(r, 415, "request.unsupported_media_type")


def test_script_in_a_question_comes_back_as_json_data(api: Api) -> None:
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    r = api.client.post("/api/v1/ask", json={"question": f"discount {script}"}, headers=api.auth("una"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.json()["question"] == f"discount {script}"
    assert r.json()["memory"]["question"] == f"discount {script}"


def test_every_route_is_documented(api: Api) -> None:
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    spec = api.client.get("/api/v1/openapi.json").json()
    routes = [(m.upper(), re.sub(r"\{\w+_id\}", "{id}", path)) for path, ms in spec["paths"].items() for m in ms]
    missing = [f"{m} {p}" for m, p in routes if f"`{m} {p}`" not in doc]
    assert not missing, f"routes missing from docs/api.md: {missing}"
