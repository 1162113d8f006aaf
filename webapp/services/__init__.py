"""Operations that change state: plain functions over a session, writing the audit log.

Callers own the transaction (``Database.write``); services only add, change and flush.
Submodules are imported by name (``from webapp.services import accounts``) so that this
package stays free of import cycles with ``webapp.db``.
"""

from webapp.services.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
)

__all__ = ["AlreadyExists", "Conflict", "Forbidden", "Invalid", "NotFound", "ServiceError"]
