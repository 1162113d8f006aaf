"""The problem codes of the administration services, said in the user's language."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext

from webapp.services.accounts import MIN_PASSWORD_LENGTH
from webapp.services.errors import Invalid

MESSAGES = {
    "required": lazy_gettext("This field is required."),
    "too_long": lazy_gettext("This is too long."),
    "taken": lazy_gettext("This name is already taken."),
    "bad_username": lazy_gettext("Use 2 to 64 letters, digits and . _ @ + -"),
    "password_long": lazy_gettext("The password is too long."),
    "bad_role": lazy_gettext("Choose one of the roles offered."),
    "needs_enterprise": lazy_gettext("Choose the enterprise this user works for."),
    "own_role": lazy_gettext("You cannot take away your own administrator role."),
    "unknown": lazy_gettext("Choose one of the options offered."),
    "bad_credit_code": lazy_gettext("A unified social credit code has 18 digits and capital "
                                    "letters."),
    "bad_email": lazy_gettext("Enter an e-mail address such as service@park.example."),
    "bad_url": lazy_gettext("Enter a web address starting with http:// or https://."),
    "bad_format": lazy_gettext("Choose one of the formats offered."),
    "bad_timezone": lazy_gettext("Choose one of the time zones offered."),
    "bad_date": lazy_gettext("Enter a date as YYYY-MM-DD."),
    "bad_time": lazy_gettext("Enter a time between 12:00 and 23:59, as HH:MM."),
    "bad_form_key": lazy_gettext("Use letters, digits and _ . - (starting with a letter)."),
}
FORM_ERRORS = "(form)"


def say(code: str, extra: list[str]) -> str:
    """One problem code (with the service's own words for it) in the user's language."""
    if code == "password_short":
        return str(_("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH))
    if code == "bad_json":
        return str(_("This is not valid JSON: %(reason)s", reason="; ".join(extra)))
    if code == "bad_schema":
        return str(_("This is not a usable form: %(reason)s", reason="; ".join(extra)))
    found = MESSAGES.get(code)
    return str(found) if found is not None else "; ".join([code, *extra])


def field_messages(exc: Invalid) -> dict[str, list[str]]:
    """An Invalid's details as messages by field; its message alone when it has none."""
    details = exc.details
    if not isinstance(details, Mapping) or not details:
        return {FORM_ERRORS: [exc.message]}
    found: dict[str, list[str]] = {}
    for field, codes in details.items():
        items = [str(c) for c in codes] if isinstance(codes, list | tuple) else [str(codes)]
        found[str(field)] = [say(items[0], items[1:])] if items else []
    return found


def required(field: str, value: str | None) -> dict[str, list[str]]:
    """A required-field message when ``value`` is blank."""
    return {field: [str(MESSAGES["required"])]} if not (value or "").strip() else {}
