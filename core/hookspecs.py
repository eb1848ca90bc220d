"""Every hook a Kesu plugin may implement.

Hooks are grouped by the phase in which the core calls them. Each hook is named ``kesu_*``.
Unless a docstring says "stops at the first non-None result", the core calls every
implementation and combines the results as described.

Which plugins a hook is called on:

* **Start-up hooks** run on every installed plugin.
* **Case hooks** run on the case's category plugin (only while it is enabled on the case's
  business line), on every enabled cross-cutting plugin (``PluginDescriptor.category`` false)
  and on the core's default plugin.
* **Line-wide hooks** (major triggers, priority) run on every plugin enabled on the case's
  business line, whatever the case's category.
* **User hooks** (the work list) run on every plugin enabled on one of the signed-in user's
  business lines (every line for an admin).
* **Presentation hooks** (the history's sentences) run on every installed plugin whenever
  audit events are shown, enabled or not: a case keeps its history after a plugin is disabled.

Plugins receive plain data (:mod:`core.contracts`), never ORM objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from core import hookspec
from core.contracts import (
    AcceptanceIssue,
    ApprovalStepSpec,
    AuditFacts,
    CapaRow,
    CaseEvent,
    CaseFacts,
    FieldSpec,
    LineFacts,
    Panel,
    PluginDescriptor,
    PriorityReason,
    Problem,
    Proposal,
    ProposalLine,
    RootCauseSpec,
    ViewSpec,
    WorkSection,
)

# ---------------------------------------------------------------------------
# Start-up hooks: called once while the application is created.
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def kesu_plugin_descriptor() -> PluginDescriptor:
    """Describe the plugin: key, names in zh_CN and en, version, dependencies.

    Called on each installed plugin on its own at start-up; every plugin must implement it.
    The key must equal the name of the plugin's ``kesu.plugins`` entry point.

    :return: the plugin's :class:`~core.contracts.PluginDescriptor`.
    """


@hookspec
def kesu_roles() -> dict[str, list[tuple[str, str]]] | None:
    """Grant extra permissions to roles, or declare new roles.

    Called at start-up before Flask-AppBuilder reads its role configuration. Results of all
    plugins are merged: each ``(view_menu_regex, permission_regex)`` pair is added to the role.

    :return: a mapping of role name to ``(view_menu, permission)`` pairs.
    """


@hookspec
def kesu_translation_dirs() -> Iterable[str] | None:
    """Name directories holding the plugin's own ``<locale>/LC_MESSAGES/messages.po|mo``.

    Called at start-up; all results are appended to Babel's translation directories, so a
    plugin's catalog overrides the core's for the same message.

    :return: absolute directory paths.
    """


@hookspec
def kesu_views() -> Iterable[ViewSpec] | None:
    """Hand the core the plugin's own screens and APIs for registration.

    Called once while the core's Flask-AppBuilder add-on registers its views; the core
    registers each :class:`~core.contracts.ViewSpec` (plugins never call ``add_view``).

    :return: the screens to register.
    """


@hookspec
def kesu_line_settings() -> dict[str, Any] | None:
    """Declare per-business-line settings of the plugin and their defaults.

    Called at start-up; an admin may change the values per business line. The values
    reach case hooks through ``case.line.plugin_settings[<plugin key>]``.

    :return: a mapping of setting name to default value.
    """


@hookspec
def kesu_role_labels() -> dict[str, Any] | None:
    """Name the roles the plugin declares (``kesu_roles``) as people read them.

    Called at start-up and whenever a role is shown (user and role screens); the core's own
    labels cannot be replaced.

    :return: a mapping of role name to its label (a lazy translation).
    """


@hookspec
def kesu_setting_labels() -> dict[str, Any] | None:
    """Name the plugin's per-business-line settings (``kesu_line_settings``) as the settings
    screen shows them.

    Called on the plugin whose settings page is shown; a setting without a label is shown
    by its key.

    :return: a mapping of setting name to its label (a lazy translation).
    """


@hookspec
def kesu_event_labels() -> dict[str, Any] | None:
    """Name the codes the plugin writes into the audit trail, as the case's timeline shows them:
    its audit actions (e.g. ``capa_action``) and the names of its deadlines.

    Called at start-up; results are merged (the core's own labels cannot be replaced).

    :return: a mapping of code to its label (a lazy translation).
    """


@hookspec
def kesu_migrations_dirs() -> Iterable[str] | None:
    """Name directories of Alembic revisions for the plugin's own tables.

    Called at start-up; ``kesu init`` upgrades every branch. A plugin's first revision has
    ``down_revision = None``, ``branch_labels = ("<plugin key>",)`` and ``depends_on`` the
    core revision its tables refer to.

    :return: absolute directory paths.
    """


@hookspec
def kesu_root_causes() -> Iterable[RootCauseSpec] | None:
    """Contribute entries to the root-cause catalogue (原因分类) of the lines the plugin is
    enabled on.

    Called on the plugin alone when it is switched on for a line (and when a line is created
    with it); the entries are written once, in the line's language, and belong to the line
    from then on (an admin may rename them or switch them off). Entries already on the line
    are kept as they are.

    :return: the entries, each under a top-level entry of the core's defaults.
    """


# ---------------------------------------------------------------------------
# Case hooks: called for one case (or one intake form) at a time.
# ---------------------------------------------------------------------------


@hookspec
def kesu_case_fields(line: LineFacts, category: str) -> Iterable[FieldSpec] | None:
    """Declare the case fields the plugin adds for ``category`` on business line ``line``.

    A category plugin answers for its own category; a cross-cutting plugin answers for every
    category. Results are concatenated in plugin order. Each field becomes a form field on the
    edit screen and a validated key of the API's ``details`` object; the intake form shows only
    the fields whose ``stage`` is ``"registration"`` (the default) — give a later stage, e.g.
    ``FieldSpec(..., stage="investigating")``, to a field decided after registration.

    :param line: the business line the case belongs to.
    :param category: the key of the case's category plugin.
    :return: the fields, in display order.
    """


@hookspec
def kesu_acceptance_issues(case: CaseFacts) -> Iterable[AcceptanceIssue] | None:
    """Check whether a case can be accepted as registered.

    Called whenever the case or its evidence changes; all results are concatenated into
    the case's ``acceptance_issues``. ``accept`` is refused while any issue remains, unless a
    supervisor overrides it with a reason.

    :param case: the case as it is now.
    :return: the issues found; none means acceptable.
    """


@hookspec(firstresult=True)
def kesu_compensation_proposal(case: CaseFacts) -> Proposal | Iterable[ProposalLine] | None:
    """Propose the compensation lines for a case reaching ``proposed``.

    Stops at the first non-None result: the category plugin's proposal. Returning an empty
    list means "no compensation"; a :class:`~core.contracts.Proposal` also carries a note.

    :param case: the case after investigation.
    :return: the proposal (or just its lines), or None to leave the proposal to staff.
    """


@hookspec
def kesu_compensation_problems(
    case: CaseFacts, lines: tuple[ProposalLine, ...]
) -> Iterable[Problem] | None:
    """Check compensation lines that staff are about to save by hand.

    Called when lines are edited on a proposal; all results are concatenated and any problem
    refuses the edit with HTTP 422 (nothing is written).

    :param case: the case as it is now.
    :param lines: the lines as they would be saved.
    :return: the problems found.
    """


@hookspec
def kesu_approval_steps(
    case: CaseFacts, lines: tuple[ProposalLine, ...]
) -> Iterable[ApprovalStepSpec] | None:
    """Name the sign-offs a proposal needs before it can be executed.

    Called when a proposal is submitted. Results are concatenated; a step named twice is
    kept once, at its first place. The steps are decided in that order.

    :param case: the case being submitted.
    :param lines: the proposal's compensation lines.
    :return: the steps.
    """


@hookspec(firstresult=True)
def kesu_workflow_stages(case: CaseFacts) -> Iterable[str] | None:
    """Say which workflow stages the case's category uses.

    Stops at the first non-None result. Stages left out are skipped by actions that would
    enter them. ``new``, ``accepted``, ``investigating``, ``proposed`` and ``closed`` cannot
    be left out.

    :param case: the case.
    :return: the stage names used, or None for all stages.
    """


@hookspec
def kesu_action_problems(case: CaseFacts, action: str, payload: dict) -> Iterable[Problem] | None:
    """Add preconditions to a workflow action.

    Called before an action runs, after the core's own checks passed. All results are
    concatenated; any problem refuses the action with HTTP 422.

    :param case: the case before the action.
    :param action: the action's name, e.g. ``close``.
    :param payload: the action's input (``comment`` and action-specific keys).
    :return: the problems found.
    """


@hookspec
def kesu_deadlines(case: CaseFacts) -> dict[str, dt.datetime] | None:
    """Name deadlines of the case that the plugin's rules set (e.g. QA's first reply).

    Called whenever the case changes; the results are merged into the case's ``deadlines``
    (a later plugin wins a name clash). Return aware datetimes.

    :param case: the case.
    :return: a mapping of deadline name to the moment it falls due.
    """


@hookspec
def kesu_case_panels(case: CaseFacts) -> Iterable[Panel] | None:
    """Add sections to the case page.

    Called when the case page is shown. Each :class:`~core.contracts.Panel` names a Jinja
    template (found through one of the plugin's views' ``template_folder``) and its context;
    the template sees ``case`` (the ORM case, read-only), ``g.user`` and ``kesu_can``.

    :param case: the case shown.
    :return: the panels, shown after the core's own sections.
    """


@hookspec
def kesu_case_event(case: CaseFacts, event: CaseEvent) -> None:
    """React to something that happened to a case (created, updated, an action).

    Called after the change, inside the same database transaction; raising an exception
    rolls the whole change back.

    :param case: the case after the change.
    :param event: what happened.
    """


# ---------------------------------------------------------------------------
# Line-wide hooks: called on every plugin enabled on the case's business line.
# ---------------------------------------------------------------------------


@hookspec
def kesu_major_reasons(case: CaseFacts) -> Iterable[str] | None:
    """Detect why a case is a major incident (重大投诉).

    Called whenever the case changes; all codes are collected (duplicates removed) into the
    case's ``major_reasons``; any code makes ``is_major`` true.

    :param case: the case.
    :return: reason codes such as ``regulator`` or ``batch_outbreak``.
    """


@hookspec
def kesu_priority_reasons(case: CaseFacts) -> Iterable[PriorityReason] | None:
    """Give reasons for a case's priority.

    All reasons are collected; the case gets the most urgent priority among them
    (``P1`` before ``P2`` before ``P3``), ``P3`` when there is none.

    :param case: the case.
    :return: the reasons.
    """


# ---------------------------------------------------------------------------
# User hooks: called for the signed-in user's own screens.
# ---------------------------------------------------------------------------


@hookspec
def kesu_work_sections(user: Any, now: dt.datetime) -> Iterable[WorkSection] | None:
    """Add sections to the user's work list (我的工作, the home page and the menu count).

    Called on every plugin enabled on one of the user's business lines, each time the work list
    or its menu count is drawn; results are concatenated after the core's own sections. ``user``
    is the signed-in user (the actor the service layer takes): a plugin returns only what the
    user's roles may act on and applies the record rules itself
    (``core.services.access.line_filter``, ``department_bound``). Keep it to a query or two per
    section: it runs on every page. Rows are sorted by the core (overdue first, then due).

    :param user: the signed-in user.
    :param now: the current moment (aware, UTC): what is overdue is judged against it.
    :return: the plugin's sections; none (or only empty ones) when the user has no such work.
    """


@hookspec
def kesu_capa_actions(
    user: Any, line_ids: frozenset[int], now: dt.datetime
) -> Iterable[CapaRow] | None:
    """Hand the CAPA register (纠正与预防措施) the plugin's corrective and preventive actions.

    Called on every plugin enabled on one of ``line_ids`` whenever the register, its export,
    the accountability report or the overdue sweep reads the actions. Return the actions of the
    cases on ``line_ids`` (already limited to the lines ``user`` may see; the core applies the
    department rule and the register's filters). Keep it to one query.

    :param user: the reader (the sweep passes the system).
    :param line_ids: the business lines to read.
    :param now: the current moment (aware, UTC): what is overdue is judged against it.
    :return: the actions, as :class:`~core.contracts.CapaRow`.
    """


# ---------------------------------------------------------------------------
# Presentation hooks: called when audit events are shown (case history, audit screen).
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def kesu_audit_sentence(event: AuditFacts) -> str | None:
    """Tell one of the plugin's own audit events as a sentence in the reader's language.

    Called on every installed plugin for each shown event whose action the core does not
    know (e.g. ``capa_action``); stops at the first non-None result. Return a plain ``str``
    (translate with ``gettext``/``str(_l(...))``, and never mark it safe: it is escaped), or
    None for events that are not the plugin's. Unanswered events get the core's generic
    sentence ("… changed …" with the field labels).

    :param event: the event with the actor's display name and its recorded changes.
    :return: the sentence, or None.
    """


HOOK_PHASES: dict[str, str] = {
    "kesu_plugin_descriptor": "startup",
    "kesu_roles": "startup",
    "kesu_translation_dirs": "startup",
    "kesu_views": "startup",
    "kesu_line_settings": "startup",
    "kesu_migrations_dirs": "startup",
    "kesu_event_labels": "startup",
    "kesu_role_labels": "startup",
    "kesu_setting_labels": "startup",
    "kesu_root_causes": "startup",
    "kesu_compensation_problems": "case",
    "kesu_deadlines": "case",
    "kesu_case_panels": "case",
    "kesu_case_fields": "case",
    "kesu_acceptance_issues": "case",
    "kesu_compensation_proposal": "case",
    "kesu_approval_steps": "case",
    "kesu_workflow_stages": "case",
    "kesu_action_problems": "case",
    "kesu_case_event": "case",
    "kesu_major_reasons": "line",
    "kesu_priority_reasons": "line",
    "kesu_work_sections": "user",
    "kesu_capa_actions": "user",
    "kesu_audit_sentence": "presentation",
}
