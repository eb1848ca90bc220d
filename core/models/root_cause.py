"""The root-cause catalogue (原因分类) of a business line: two levels, edited by an admin.

A top-level entry (``parent_id`` null) such as 原材料 holds second-level entries such as
批次不合格. A case points at the entry chosen when its root cause was recorded
(``Case.root_cause_id``); the free text (``Case.root_cause``) stays the explanation. Entries are
never deleted once a case may point at them: an admin switches one off (``active``). ``source``
names the plugin that contributed an entry (null: the core's defaults or the admin's own).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship


class RootCause(Model):
    __tablename__ = "root_cause"
    __table_args__ = (sa.UniqueConstraint("business_line_id", "code", name="uq_root_cause_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("business_line.id", ondelete="CASCADE"), nullable=False, index=True
    )
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("root_cause.id"), index=True)
    # Stable key, e.g. "material" or "material.batch_defect" (a plugin's: "product_quality.caking").
    code: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    source: Mapped[str | None] = mapped_column(sa.String(64))

    parent: Mapped[RootCause | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)

    @property
    def label(self) -> str:
        """``原材料 / 批次不合格`` for a second-level entry, the name alone for a top-level one."""
        return f"{self.parent.name} / {self.name}" if self.parent else self.name

    def __repr__(self) -> str:
        return self.label
