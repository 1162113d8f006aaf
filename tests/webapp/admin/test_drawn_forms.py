"""Forms drawn in a diagram (camunda:formData) belong to the diagram: the modeler deploys it,
the park's form list leaves them out (they are not the park's to edit), and deploying the
procedure again with the park's forms changes nothing."""

from __future__ import annotations

from pathlib import Path

from tests.webapp.admin.helpers import post_json, versions
from tests.webapp.apptools import Browser, text_of
from webapp.db import Database

DRAWN = (Path(__file__).parent / "data" / "form_data.bpmn").read_text(encoding="utf-8")


def test_drawn_forms_stay_with_their_diagram(parks: Database, admin: Browser) -> None:
    checked = post_json(admin, "/admin/processes/validate", {"bpmn_xml": DRAWN}).get_json()
    assert checked == {"problems": [], "warnings": []}
    deployed = post_json(admin, "/admin/processes/deploy", {"bpmn_xml": DRAWN})
    assert deployed.status_code == 201, deployed.get_json()
    forms = text_of(admin.get("/admin/forms"))
    assert "formData:" not in forms
    again = admin.post("/admin/processes/venue_booking/redeploy", {})
    assert again.status_code == 302
    assert "没有改动：“Venue booking”已在使用这些表单。" in text_of(admin.get("/admin/processes"))
    assert versions(parks, "venue_booking") == [1]
