"""A file over the size limit is refused in the browser, on its field, before anything is sent."""

from __future__ import annotations

from playwright.sync_api import Browser

from tests.e2e.conftest import LiveServer, signed_in

ELEVEN_MB = 11 * 1024 * 1024


def test_a_too_large_file_is_refused_before_the_form_is_sent(
    chromium: Browser, live_server: LiveServer
) -> None:
    page = signed_in(chromium, live_server, "xinghe")
    page.goto(f"{live_server.url}/applications/new/policy_subsidy")
    sent = []
    page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)
    upload = page.locator('input[type="file"][data-max-bytes]').first
    upload.set_input_files(files=[{"name": "审计报告.pdf", "mimeType": "application/pdf",
                                   "buffer": b"%PDF-1.4\n" + b"0" * ELEVEN_MB}])

    message = upload.evaluate("input => input.validationMessage")
    assert message == "审计报告.pdf 超过 10 MB：每个文件最大 10 MB。"
    page.locator('form.schema-form button[type="submit"]').last.click()
    page.wait_for_timeout(500)
    assert sent == [], "the form was sent with a file the browser knew was too large"

    upload.set_input_files(files=[{"name": "审计报告.pdf", "mimeType": "application/pdf",
                                   "buffer": b"%PDF-1.4\nsmall"}])
    assert upload.evaluate("input => input.validationMessage") == ""


def test_a_file_of_another_type_is_refused_before_the_form_is_sent(
    chromium: Browser, live_server: LiveServer
) -> None:
    page = signed_in(chromium, live_server, "xinghe")
    page.goto(f"{live_server.url}/applications/new/policy_subsidy")
    sent = []
    page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)
    upload = page.locator('input[type="file"][data-max-bytes]').first
    upload.set_input_files(files=[{"name": "安装包.exe", "mimeType": "application/x-msdownload",
                                   "buffer": b"MZ" + b"0" * 64}])

    message = upload.evaluate("input => input.validationMessage")
    assert message == "安装包.exe 不是 PDF、PNG、JPEG、Word、Excel 或 OFD 文件。"
    page.locator('form.schema-form button[type="submit"]').last.click()
    page.wait_for_timeout(500)
    assert sent == [], "the form was sent with a file the browser knew the park does not take"

    # the type tells where the name does not: a PDF saved without its extension is taken
    upload.set_input_files(files=[{"name": "审计报告", "mimeType": "application/pdf",
                                   "buffer": b"%PDF-1.4\nsmall"}])
    assert upload.evaluate("input => input.validationMessage") == ""
    upload.set_input_files(files=[{"name": "审计报告.PDF", "mimeType": "",
                                   "buffer": b"%PDF-1.4\nsmall"}])
    assert upload.evaluate("input => input.validationMessage") == ""


def test_the_servers_refusal_of_an_11_mb_file_keeps_the_form(
    chromium: Browser, live_server: LiveServer
) -> None:
    """A browser that did not check (an old one, or a check stepped around) sends the 11 MB
    file: the same form comes back with what was typed and the field saying why."""
    page = signed_in(chromium, live_server, "xinghe")
    page.goto(f"{live_server.url}/applications/new/policy_subsidy")
    page.locator('input[name="credit_code"]').fill("91320594MA1W2X3Y4K")
    page.locator('input[name="rd_spend"]').fill("12000000")
    page.locator('input[name="contact_name"]').fill("李娜")
    upload = page.locator('input[type="file"][data-max-bytes]').first
    upload.set_input_files(
        files=[
            {
                "name": "审计报告.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n" + b"0" * ELEVEN_MB,
            }
        ]
    )
    with page.expect_navigation():
        upload.evaluate(
            "input => { input.setCustomValidity(''); "
            "HTMLFormElement.prototype.submit.call(input.form); }"
        )

    assert "413" not in page.title()
    error = page.locator(".field-error, .error-message, [id$='-error']").filter(
        has_text="审计报告.pdf 超过 10 MB"
    )
    assert error.count() >= 1
    assert page.locator('input[name="credit_code"]').input_value() == "91320594MA1W2X3Y4K"
    assert page.locator('input[name="rd_spend"]').input_value() == "12000000"
    assert page.locator('input[name="contact_name"]').input_value() == "李娜"
    page.context.close()
