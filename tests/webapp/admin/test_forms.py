"""The form editor: the park's forms, saved only when they are usable, with a live preview."""

from __future__ import annotations

import html as markup
import json
import re

from tests.webapp.admin.helpers import PERMIT_FORM, audits, create_permit_form, definition
from tests.webapp.apptools import Browser, text_of
from webapp.db import Database


def field_error(html: str, name: str) -> str:
    """The message shown beside one field of the editor."""
    found = re.search(rf'<div class="field-error" id="e-{name}">(.*?)</div>', html, re.S)
    assert found is not None, f"no message beside {name}"
    return markup.unescape(" ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()))


def test_the_list_names_every_form_and_where_it_is_used(admin: Browser) -> None:
    html = text_of(admin.get("/admin/forms"))
    assert html.count("<tr data-form-key=") == 22  # the demo park's forms
    row = re.search(r'<tr data-form-key="policy_subsidy_review">(.*?)</tr>', html, re.S).group(1)
    assert "政策扶持资金申请 v1" in row and "redeploy" not in row


def test_a_form_opens_as_json_with_its_preview(parks: Database, admin: Browser) -> None:
    html = text_of(admin.get("/admin/forms/policy_subsidy_review"))
    schema = definition(parks, "policy_subsidy", 1).forms["policy_subsidy_review"]
    shown = re.search(r'<textarea id="f-schema"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert json.loads(markup.unescape(shown)) == schema
    assert 'hx-post="/admin/forms/preview"' in html
    # the preview is drawn by the task page's renderer: the same inputs, named by field
    assert 'name="outcome" value="approve"' in html and 'id="f-return_reasons"' in html


def test_the_preview_follows_the_text_and_explains_what_is_wrong(admin: Browser) -> None:
    drawn = text_of(admin.post("/admin/forms/preview", {"schema": json.dumps(PERMIT_FORM)}))
    assert "同意发放通行证" in drawn and 'type="checkbox"' in drawn and "<textarea" in drawn
    broken = text_of(admin.post("/admin/forms/preview", {"schema": '{"type": "object",'}))
    assert 'class="preview-problems"' in broken and "<input" not in broken
    wrong = text_of(admin.post("/admin/forms/preview", {"schema": '{"type": "array"}'}))
    assert 'class="preview-problems"' in wrong and "object" in wrong


def test_a_new_form_is_saved_and_audited(parks: Database, admin: Browser) -> None:
    create_permit_form(admin)
    html = text_of(admin.get("/admin/forms/visitor_permit_review"))
    assert "同意发放通行证" in html
    row = re.search(r'<tr data-form-key="visitor_permit_review">(.*?)</tr>',
                    text_of(admin.get("/admin/forms")), re.S).group(1)
    assert "admin" in row  # edited by
    [event] = audits(parks, "form.saved")
    assert event.actor == "admin" and event.details == {"form_key": "visitor_permit_review"}
    assert event.before is None and event.after == {"schema": PERMIT_FORM}


def test_invalid_json_is_refused_with_the_reason(parks: Database, admin: Browser) -> None:
    answer = admin.post("/admin/forms/policy_subsidy_review", {"schema": '{"type": "object"'})
    assert answer.status_code == 422
    html = text_of(answer)
    assert "JSON" in field_error(html, "schema") and "line 1" in field_error(html, "schema")
    assert '{&#34;type&#34;: &#34;object&#34;' in html  # what was typed is kept
    assert audits(parks, "form.saved") == []


def test_a_schema_that_is_no_form_is_refused(parks: Database, admin: Browser) -> None:
    for schema, reason in (({"type": "array"}, '"object"'),
                           ({"type": "object", "properties": {"x": {"type": "nonsense"}}},
                            "properties/x/type"),
                           ([1, 2], "JSON object")):
        answer = admin.post("/admin/forms/policy_subsidy_review", {"schema": json.dumps(schema)})
        assert answer.status_code == 422
        assert reason in field_error(text_of(answer), "schema")
    assert audits(parks, "form.saved") == []
    assert definition(parks, "policy_subsidy", 1).forms["policy_subsidy_review"]["type"] == \
        "object"


def test_a_new_form_needs_a_free_valid_key(admin: Browser) -> None:
    schema = json.dumps(PERMIT_FORM)
    taken = admin.post("/admin/forms/new", {"key": "policy_subsidy_review", "schema": schema})
    assert taken.status_code == 422 and field_error(text_of(taken), "key")
    for key in ("", "1abc", "has space", "x" * 101):
        answer = admin.post("/admin/forms/new", {"key": key, "schema": schema})
        assert answer.status_code == 422 and field_error(text_of(answer), "key"), key


def test_saving_an_unchanged_form_changes_nothing(parks: Database, admin: Browser) -> None:
    schema = definition(parks, "policy_subsidy", 1).forms["policy_subsidy_review"]
    answer = admin.post("/admin/forms/policy_subsidy_review", {"schema": json.dumps(schema)})
    assert answer.status_code == 302
    assert audits(parks, "form.saved") == []


def test_an_unknown_form_is_404(admin: Browser) -> None:
    assert admin.get("/admin/forms/nothing_here").status_code == 404
    assert admin.post("/admin/forms/nothing_here", {"schema": "{}"}).status_code == 404
