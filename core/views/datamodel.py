"""Flask-AppBuilder's data model, with writes routed through the service layer."""

from __future__ import annotations

from flask import g
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, OperationalError

from core.services import records
from core.services.errors import ServiceError


class AuditedInterface(SQLAInterface):
    """Adds and edits check the record rule on the written values and are audited.

    Deleting is refused: reference records that cases point to are kept for the ledger.
    """

    def __init__(
        self, obj, session=None, entity: str | None = None, deletable: bool = False
    ) -> None:
        super().__init__(obj, session=session)
        self.entity = entity or obj.__tablename__
        self.deletable = deletable

    def _save(self, item, ok_message) -> bool:
        try:
            records.save(g.user, item, self.entity)
        except ServiceError as exc:
            self.message = (str(exc.message), "danger")
            return False
        except IntegrityError:
            self.message = (
                str(_l("This record clashes with an existing one (same code or name).")),
                "danger",
            )
            return False
        except OperationalError:
            self.message = (str(_l("The database is busy; please try again.")), "danger")
            return False
        self.message = (str(ok_message), "success")
        return True

    def add(self, item, raise_exception: bool = False) -> bool:
        return self._save(item, _l("Added Row"))

    def edit(self, item, raise_exception: bool = False) -> bool:
        return self._save(item, _l("Changed Row"))

    def delete(self, item, raise_exception: bool = False) -> bool:
        if not self.deletable or item is None:
            self.message = (
                str(_l("Records are never deleted; they are kept for the ledger.")),
                "warning",
            )
            return False
        try:
            records.delete(g.user, item, self.entity)
        except ServiceError as exc:
            self.message = (str(exc.message), "danger")
            return False
        self.message = (str(_l("Deleted Row")), "success")
        return True

    def delete_all(self, items) -> bool:
        return self.delete(None)
