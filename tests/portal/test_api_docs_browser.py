"""The API docs page (/api/v1/docs) in a real headless Chromium: a caller who has a
token clicks "Authorize", gives it, and "Try it out" on an operation then answers 200 —
because the document applies the bearer scheme to the operation; before authorizing, the
same call is a 401."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
API = "/api/v1"


def test_authorize_on_the_docs_page_lets_try_it_out_call_the_api(chromium, live_server, client, make_user, screenshots):
    name = make_user("admin")
    token = client.post(f"{API}/auth/token", json={"username": name, "password": PASSWORD}).get_json()["token"]
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{live_server}{API}/docs/")
        operation = page.locator(".opblock-get", has=page.locator('[data-path="/api/v1/grids"]')).first
        operation.locator(".opblock-summary").click()
        operation.get_by_role("button", name="Try it out").click()
        operation.get_by_role("button", name="Execute").click()
        status = operation.locator(".live-responses-table .response .response-col_status").first
        status.wait_for()
        assert status.inner_text().strip() == "401"

        page.locator(".auth-wrapper .btn.authorize").click()
        dialog = page.locator(".dialog-ux .modal-ux")
        dialog.locator("input").first.fill(token)
        dialog.locator("button.modal-btn.auth.authorize").click()
        dialog.locator("button.btn-done").click()

        operation.get_by_role("button", name="Execute").click()
        page.wait_for_function(
            """() => [...document.querySelectorAll('.live-responses-table .response .response-col_status')]
                     .some(e => e.textContent.trim() === '200')"""
        )
        curl = operation.locator(".curl-command").inner_text()
        assert f"Authorization: Bearer {token}" in curl
        page.screenshot(path=str(screenshots / "api-docs-authorized-1280px.png"), full_page=False)
    finally:
        page.close()
