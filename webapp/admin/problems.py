"""Deploy problems and warnings in the administrator's language.

The engine words every problem in English and gives most of them a ``code`` with their facts
(``Problem.params``). Here each code has its sentence in the administration's catalog; the
facts are filled in as the engine gave them (element ids, expressions and the engine's own
reasons stay as written). A problem without a code, or with one not listed here, keeps its
English message. English-speaking administrators read the engine's message itself.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale, lazy_gettext

from engine import Problem

# the modeler's own diagram; other files of its deployments are the park's decisions
DIAGRAM_FILE = "diagram.bpmn"

TEXTS: dict[str, Any] = {
    "no_start_event": lazy_gettext("The %(kind)s has no start event, so nothing in it can run."),
    "call_cycle": lazy_gettext(
        "Call activity “%(call)s” is part of a call cycle (%(chain)s): a process "
        "must not call itself, directly or through other call activities."
    ),
    "duplicate_id": lazy_gettext("The %(what)s id “%(id)s” is used twice in this deployment."),
    "dangling_flow": lazy_gettext(
        "The sequence flow's %(attribute)s “%(ref)s” is no flow node of this process."
    ),
    "no_incoming_flow": lazy_gettext("This %(kind)s has no incoming sequence flow."),
    "no_outgoing_flow": lazy_gettext("This %(kind)s has no outgoing sequence flow."),
    "called_process_missing": lazy_gettext(
        "The called process “%(called)s” is neither in this deployment nor deployed in the park."
    ),
    "called_version_missing": lazy_gettext(
        "The park has no version %(version)s of the called process “%(called)s” "
        "(deployed versions: %(known)s)."
    ),
    "called_tag_missing": lazy_gettext(
        "No deployed version of the called process “%(called)s” has the version tag "
        "“%(tag)s” (version tags: %(known)s)."
    ),
    "called_version_bound": lazy_gettext(
        "This call activity calls “%(called)s” version %(version)s, bound when this process "
        "is deployed: deploy it again to call a newer version."
    ),
    "task_rule_invalid": lazy_gettext(
        "The task rule %(property)s “%(value)s” is not one of: %(allowed)s."
    ),
    "timeout_without_due": lazy_gettext(
        "timeoutAction acts at the task's due date, but the task has no camunda:dueDate."
    ),
    "task_without_people": lazy_gettext(
        "No lane, assignee or candidates name who does this task: it "
        "goes to the park's administrators."
    ),
    "not_executable": lazy_gettext(
        "The process is not marked executable; it is the only process here, "
        "so Parkflow deploys it to run."
    ),
    "bad_expression": lazy_gettext("%(what)s “%(text)s” cannot be used: %(reason)s"),
    "timer_without_offset": lazy_gettext(
        "%(what)s “%(text)s”: a date-time needs its UTC offset, "
        "e.g. +08:00 (or write a plain date, taken in the park's time "
        "zone)."
    ),
    "timer_without_time": lazy_gettext("The timer has no duration, date or cycle."),
    "unsupported_element": lazy_gettext(
        "Parkflow does not support this element (%(tag)s): %(message)s"
    ),
    "unsupported_camunda": lazy_gettext(
        "Parkflow does not support camunda:%(name)s here: %(message)s"
    ),
    "service_not_named": lazy_gettext(
        "A service task needs a “service” property naming a registered "
        "service. Registered services: %(known)s."
    ),
    "unknown_service": lazy_gettext(
        "No service named “%(name)s” is registered. Registered services: %(known)s."
    ),
    "missing_form": lazy_gettext(
        "The form “%(key)s” named by formKey does not exist in this park."
    ),
    "engine_refused": lazy_gettext("The engine cannot run this element: %(reason)s"),
    "form_data_place": lazy_gettext(
        "camunda:formData gives a form to a user task or to the process's own start event only."
    ),
    "form_key_and_data": lazy_gettext(
        "camunda:formKey “%(key)s” is not used: the task shows the form drawn in its "
        "camunda:formData."
    ),
    "form_data_business_key": lazy_gettext(
        "The businessKey of camunda:formData is not used: Parkflow numbers each application itself."
    ),
    "form_data_content": lazy_gettext(
        "camunda:formData may contain camunda:formField elements only."
    ),
    "form_field_id": lazy_gettext(
        "The form field id “%(id)s” is not a variable name (letters, digits "
        "and _, starting with a letter)."
    ),
    "form_field_reserved": lazy_gettext(
        "The form field id “%(id)s” is a reserved name (a Python keyword, a function of "
        "expressions or a pf_ name): no form may take it."
    ),
    "form_field_twice": lazy_gettext("The form field “%(id)s” is defined twice."),
    "form_field_type": lazy_gettext(
        "The form field “%(id)s” has the type “%(type)s”, which is not "
        "supported: use one of %(types)s."
    ),
    "form_field_untyped": lazy_gettext("The form field “%(id)s” has no type: it is taken as text."),
    "form_field_value": lazy_gettext(
        "The values of the enum field “%(id)s” are wrong: %(message)s"
    ),
    "form_field_default": lazy_gettext(
        "The default value “%(value)s” of the form field “%(id)s” cannot be used: %(reason)s"
    ),
    "form_field_constraint": lazy_gettext(
        "The validation “%(constraint)s” of the form field “%(id)s” cannot be used: %(reason)s"
    ),
    "form_field_pattern": lazy_gettext(
        "The pattern of the form field “%(id)s” is not a regular expression: %(message)s"
    ),
    "form_field_property": lazy_gettext(
        "The property “%(property)s” of the form field “%(id)s” is not "
        "used by Parkflow (it reads description, widget, pattern, "
        "prefill)."
    ),
    "approval_mode_unknown": lazy_gettext(
        "The approval mode “%(value)s” is unknown: choose any (或签), all (会签), "
        "sequential (依次审批) or ratio:<share> (按比例通过, e.g. ratio:0.6)."
    ),
    "approval_ratio": lazy_gettext(
        "The approval mode “%(value)s” needs a share more than 0 and at most 1, "
        "e.g. ratio:0.6."
    ),
    "approval_reject_policy": lazy_gettext(
        "The reject policy “%(value)s” is unknown: choose immediate or after_all."
    ),
    "approval_variable": lazy_gettext("%(name)s “%(value)s” is not a variable name."),
    "approval_approvers": lazy_gettext(
        "approvers “%(text)s” is neither a variable name nor an expression such as "
        "${reviewers}."
    ),
    "approval_mode_loop": lazy_gettext(
        "The approval mode “%(mode)s” makes this task one task per signer: remove its "
        "multi-instance marker."
    ),
    "approval_without_signers": lazy_gettext(
        "The approval mode “%(mode)s” has nobody to sign: name the signers with candidate "
        "users, candidate groups (their members sign), a lane or the approvers property."
    ),
    # the HTTP connector (service=http)
    "http_without_method": lazy_gettext(
        "The HTTP connector needs a method property: one of %(methods)s."
    ),
    "http_bad_method": lazy_gettext("The method “%(method)s” is none of %(methods)s."),
    "http_without_url": lazy_gettext("The HTTP connector needs a url property."),
    "http_bad_url": lazy_gettext("“%(url)s” is not an address starting with http:// or https://."),
    "http_bad_header": lazy_gettext("“%(name)s” is not a header name."),
    "http_bad_expression": lazy_gettext(
        "The property %(property)s holds an expression that cannot run: %(reason)s"
    ),
    "http_bad_output": lazy_gettext("“%(name)s” is not a variable name."),
    "http_bad_number": lazy_gettext(
        "The property %(property)s is a whole number from %(low)s to %(high)s."
    ),
    "http_unknown_property": lazy_gettext(
        "The HTTP connector has no property %(property)s."
    ),
}


def text_of(problem: Problem) -> str:
    """The problem in the current user's language (the engine's message in English)."""
    template = TEXTS.get(problem.code or "")
    if template is None or str(get_locale() or "").startswith("en"):
        return problem.message
    try:
        return str(template) % {"message": problem.message, **problem.facts}
    except (KeyError, TypeError, ValueError):  # facts the sentence does not expect
        return problem.message


def problem_json(problem: Problem) -> dict[str, Any]:
    """A problem as the modeler shows it: where, the English message, its code and its text;
    ``file`` when it lies in another file of the deployment than the diagram itself."""
    item: dict[str, Any] = {
        "element_id": problem.element_id,
        "line": problem.line,
        "message": problem.message,
        "code": problem.code,
        "text": text_of(problem),
    }
    if problem.file and problem.file != DIAGRAM_FILE:
        item["file"] = problem.file
    return item
