"""Flask-AppBuilder's data model and model view, with writes routed through the service layer.

Flask-AppBuilder's screens ignore what its data model returns and flash "added" unless the
data model raises; so the rules are checked in the view's ``pre_add``/``pre_update`` hooks
(their errors are shown to the user and stop the write), and the data model raises on any
failure left.
"""

from __future__ import annotations

from flask import g
from flask_appbuilder import ModelView
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, OperationalError
from wtforms.fields.core import UnboundField

from core.db import is_lock_error
from core.services import records
from core.services.errors import Conflict


class AuditedInterface(SQLAInterface):
    """Adds and edits check the record rule (and ``check``) on the written values and are
    audited. Deleting is refused unless ``deletable``: reference records that cases point to
    are kept: cases and their history refer to them."""

    def __init__(
        self, obj, session=None, entity: str | None = None, deletable: bool = False, check=None
    ) -> None:
        super().__init__(obj, session=session)
        self.entity = entity or obj.__tablename__
        self.deletable = deletable
        self.check = check

    def validate(self, item) -> None:
        """Raise a service error if ``item`` may not be written by the signed-in user."""
        records.check(g.user, item, self.check)

    def _save(self, item, ok_message) -> bool:
        try:
            records.save(g.user, item, self.entity, self.check)
        except IntegrityError:
            raise Conflict(
                _l("This record clashes with an existing one (same code or name).")
            ) from None
        except OperationalError as exc:
            if not is_lock_error(exc):
                raise
            raise Conflict(_l("The database is busy; please try again.")) from None
        self.message = (str(ok_message), "success")
        return True

    def add(self, item, raise_exception: bool = False) -> bool:
        return self._save(item, _l("Added Row"))

    def edit(self, item, raise_exception: bool = False) -> bool:
        return self._save(item, _l("Changed Row"))

    def refuse_delete(self) -> None:
        if not self.deletable:
            raise Conflict(_l("Records are never deleted: cases and their history refer to them."))

    def delete(self, item, raise_exception: bool = False) -> bool:
        self.refuse_delete()
        records.delete(g.user, item, self.entity)
        self.message = (str(_l("Deleted Row")), "success")
        return True

    def delete_all(self, items) -> bool:
        self.refuse_delete()
        return all(self.delete(item) for item in items)


class AuditedViewMixin:
    """For model views over an :class:`AuditedInterface`: rules are checked before writing.

    ``select_fields`` adjusts the pick lists of relations: ``{column: (get_label, keep)}``
    names each choice (``get_label(record)``) and keeps those ``keep(record)`` accepts.
    """

    select_fields: dict = {}

    def _init_forms(self) -> None:
        super()._init_forms()
        for form in (self.add_form, self.edit_form, self.search_form):
            for name, field in list(vars(form).items()):
                if not isinstance(field, UnboundField) or not issubclass(
                    field.field_class, QuerySelectField
                ):
                    continue
                field.kwargs["blank_text"] = "—"  # not Flask-AppBuilder's "__None"
                if name in self.select_fields:
                    get_label, keep = self.select_fields[name]
                    field.kwargs["get_label"] = get_label
                    everything = field.kwargs["query_func"]
                    field.kwargs["query_func"] = lambda q=everything, k=keep: [
                        r for r in q() if k(r)
                    ]

    def pre_add(self, item) -> None:
        super().pre_add(item)
        self.datamodel.validate(item)

    def pre_update(self, item) -> None:
        super().pre_update(item)
        self.datamodel.validate(item)

    def pre_delete(self, item) -> None:
        super().pre_delete(item)
        self.datamodel.refuse_delete()


class AuditedModelView(AuditedViewMixin, ModelView):
    """A model view whose writes go through the service layer."""
