"""No user text reaches HTML unescaped: a static scan of the Python code and of every template.

Why these rules (Flask-Babel 4, Jinja2 3, MarkupSafe 3):

- In a template, ``_()``/``gettext()`` are Jinja's "new style" callables: the result is
  ``Markup(translation) % params``. The msgid is trusted as HTML, while the params are escaped
  by ``Markup.__mod__``. So a *literal* msgid with params is safe; a non-literal msgid (user
  text) is rendered raw.
- In Python, ``flask_babel.gettext`` returns a plain ``str`` (escaped when a template shows it),
  but ``lazy_gettext`` returns a ``LazyString`` whose ``__html__`` returns the formatted text
  as-is: Jinja trusts it, so a lazy string formatted with user-supplied params is rendered raw.
- ``Markup(x)``, ``|safe``, ``{% autoescape false %}`` and any ``__html__`` method mark text
  as trusted HTML.

Hence: every translation call takes a literal msgid; a lazy string with non-literal params is
turned into a plain ``str`` at once (``str(_l(...))``); ``Markup``/``|safe``/``__html__`` only
where the allow-list below names the place and the reason it is provably safe. New code that
breaks a rule fails here until it is fixed or allow-listed with a reason.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jinja2
from jinja2 import nodes

ROOT = Path(__file__).resolve().parents[1]
PYTHON_ROOTS = [ROOT / "core", ROOT / "plugins", ROOT / "tests" / "plugins"]
TEMPLATE_ROOTS = [ROOT / "core", ROOT / "plugins", ROOT / "tests" / "plugins"]

TRANSLATE = {"_", "gettext", "ngettext", "pgettext", "npgettext", "N_", "_l", "lazy_gettext"}
LAZY = {"_l", "lazy_gettext", "lazy_ngettext", "lazy_pgettext"}
MARKUP = {"Markup"}
TEMPLATE_SOURCE = {"render_template_string", "from_string"}  # user text as a template runs code

# (path relative to the repository, enclosing function, rule) -> why it is provably safe.
PYTHON_ALLOWED: dict[tuple[str, str, str], str] = {
    ("core/i18n.py", "translated", "non-literal msgid"): (
        "shows a message stored as its msgid (acceptance issues, proposal and line notes); "
        "Python gettext returns a plain str, which Jinja escapes, and it is returned as str()"
    ),
    ("core/services/notifications.py", "text", "non-literal msgid"): (
        "shows a notification stored as a system msgid (written with N_ literals only); "
        "Python gettext returns a plain str, which Jinja escapes"
    ),
}
# (template path relative to the repository, rule) -> why it is provably safe.
TEMPLATE_ALLOWED: dict[tuple[str, str], str] = {
    ("core/templates/kesu/workspace.html", "URL attribute not from url_for"): (
        "WorkRow/WorkSection links are paths of this site: the core's built in code "
        "(core/services/workspace.py), a plugin's forced to a local path (_local_link)"
    ),
    ("core/templates/appbuilder/navbar_menu.html", "URL attribute not from url_for"): (
        "Flask-AppBuilder's own menu template (a count added): item.get_url() is url_for or an "
        "href given in code (add_link)"
    ),
    ("core/templates/appbuilder/navbar_menu.html", "non-literal msgid"): (
        "Flask-AppBuilder's own menu template (a count added): menu labels are names given in "
        "code (register_core_views, plugins' ViewSpec), never user text"
    ),
    ("core/templates/appbuilder/navbar_right.html", "URL attribute not from url_for"): (
        "Flask-AppBuilder's navbar_right.html: appbuilder.get_url_for_* (url_for inside)"
    ),
    ("core/templates/appbuilder/general/widgets/list.html", "URL attribute not from url_for"): (
        "Flask-AppBuilder's own list widget (values shown through kesu_cell): the column "
        "headers' sort links come from its link_order filter (the view's own URL)"
    ),
}
# A URL attribute filled from data could carry ``javascript:``, which escaping does not stop.
URL_ATTRIBUTE = re.compile(
    r"""(?<![\w-])(href|src|action|formaction)\s*=\s*["']?\{\{(?!\s*url_for\()"""
)


def _python_files() -> list[Path]:
    return sorted(
        p for root in PYTHON_ROOTS for p in root.rglob("*.py") if "migrations" not in p.parts
    )


def _template_files() -> list[Path]:
    return sorted(p for root in TEMPLATE_ROOTS for p in root.rglob("templates/**/*.html"))


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float))


def _code_value(node: ast.expr) -> bool:
    """A literal or a module constant (an UPPER_CASE name): never user text."""
    return _literal(node) or (isinstance(node, ast.Name) and node.id.isupper())


def python_problems(source: str, path: str) -> list[tuple[str, str, int, str]]:
    """``(path, function, line, rule)`` for every unsafe call in a Python module."""
    tree = ast.parse(source)
    parents: dict[ast.AST, ast.AST] = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            parents[child] = parent

    def function_of(node: ast.AST) -> str:
        while node in parents:
            node = parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node.name
        return "<module>"

    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "__html__":
            out.append((path, function_of(node), node.lineno, "__html__ method"))
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name in TRANSLATE | MARKUP:
            if not node.args or not _literal(node.args[0]):
                rule = "non-literal markup" if name in MARKUP else "non-literal msgid"
                out.append((path, function_of(node), node.lineno, rule))
        if name in TEMPLATE_SOURCE and (not node.args or not _literal(node.args[0])):
            out.append((path, function_of(node), node.lineno, "non-literal template source"))
        if name in LAZY and any(not _code_value(k.value) for k in node.keywords):
            parent = parents.get(node)
            wrapped = (
                isinstance(parent, ast.Call)
                and _name(parent.func) == "str"
                and parent.args[0] is node
            )
            if not wrapped:
                out.append((path, function_of(node), node.lineno, "lazy string with params"))
    return out


def _env() -> jinja2.Environment:
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    return env


def template_problems(source: str, path: str) -> list[tuple[str, int, str]]:
    """``(path, line, rule)`` for every unsafe construct in a template."""
    tree = _env().parse(source)
    out = []
    for node in tree.find_all(nodes.Call):
        name = node.node.name if isinstance(node.node, nodes.Name) else None
        if isinstance(node.node, nodes.Getattr):
            name = node.node.attr
        if name in TRANSLATE and (
            not node.args
            or not isinstance(node.args[0], nodes.Const)
            or not isinstance(node.args[0].value, str)
        ):
            out.append((path, node.lineno, "non-literal msgid"))
        if name in MARKUP:
            out.append((path, node.lineno, "Markup"))
    for node in tree.find_all(nodes.Filter):
        if node.name == "safe":
            out.append((path, node.lineno, "|safe"))
    for match in URL_ATTRIBUTE.finditer(source):
        out.append(
            (path, source.count("\n", 0, match.start()) + 1, "URL attribute not from url_for")
        )
    for node in tree.find_all(nodes.ScopedEvalContextModifier):
        for keyword in node.options:
            if keyword.key == "autoescape":
                out.append((path, node.lineno, "autoescape switched"))
    for node in tree.find_all(nodes.EvalContextModifier):
        for keyword in node.options:
            if keyword.key == "autoescape":
                out.append((path, node.lineno, "autoescape switched"))
    return out


def test_python_never_translates_or_trusts_user_text():
    found = []
    files = _python_files()
    assert len(files) >= 60, files  # the scan sees the core's and the plugins' modules
    for file in files:
        rel = file.relative_to(ROOT).as_posix()
        for path, function, line, rule in python_problems(file.read_text("utf-8"), rel):
            if (path, function, rule) not in PYTHON_ALLOWED:
                found.append(f"{path}:{line} in {function}(): {rule}")
    assert found == [], "\n".join(found)


def test_templates_never_translate_or_trust_user_text():
    found = []
    files = _template_files()
    assert len(files) >= 15, files  # the scan sees the core's and the plugins' templates
    for file in files:
        rel = file.relative_to(ROOT).as_posix()
        for path, line, rule in template_problems(file.read_text("utf-8"), rel):
            if (path, rule) not in TEMPLATE_ALLOWED:
                found.append(f"{path}:{line}: {rule}")
    assert found == [], "\n".join(found)


def test_every_allow_list_entry_is_still_needed():
    """A stale entry would silently allow a new unsafe call in the same place."""
    seen = set()
    for file in _python_files():
        rel = file.relative_to(ROOT).as_posix()
        seen |= {(p, f, r) for p, f, _, r in python_problems(file.read_text("utf-8"), rel)}
    assert set(PYTHON_ALLOWED) <= seen, set(PYTHON_ALLOWED) - seen
    seen_t = set()
    for file in _template_files():
        rel = file.relative_to(ROOT).as_posix()
        seen_t |= {(p, r) for p, _, r in template_problems(file.read_text("utf-8"), rel)}
    assert set(TEMPLATE_ALLOWED) <= seen_t, set(TEMPLATE_ALLOWED) - seen_t


# -- the scanner itself catches what it must (and passes what is safe) --------------------------


def test_scanner_flags_each_unsafe_form():
    bad_py = (
        "def f(x):\n"
        "    _(x)\n"
        "    gettext(x.note)\n"
        "    Markup(x)\n"
        "    markupsafe.Markup(f'<b>{x}</b>')\n"
        "    _l('Hi %(n)s', n=x)\n"
        "    render_template_string(x)\n"
        "class C:\n"
        "    def __html__(self):\n"
        "        return ''\n"
    )
    rules = [r for _, _, _, r in python_problems(bad_py, "x.py")]
    assert rules.count("non-literal msgid") == 2
    assert rules.count("non-literal markup") == 2
    assert "lazy string with params" in rules and "__html__ method" in rules
    assert "non-literal template source" in rules
    good_py = "def f(x):\n    _('Hi %(n)s', n=x)\n    str(_l('Hi %(n)s', n=x))\n    _l('Hi', n=3)\n"
    assert python_problems(good_py, "x.py") == []

    bad_html = (
        '{{ _(line.note) }}<input value="{{ gettext(x) }}">{{ x|safe }}{{ Markup(x) }}'
        "{% autoescape false %}{{ x }}{% endautoescape %}"
    )
    bad_html += '<a href="{{ customer.website }}">'
    rules = [r for _, _, r in template_problems(bad_html, "x.html")]
    assert "URL attribute not from url_for" in rules
    assert rules.count("non-literal msgid") == 2
    assert {"|safe", "Markup", "autoescape switched"} <= set(rules)
    good_html = "{{ _('Hi %(n)s', n=x) }}{{ x }}{{ x|tojson }}<a href=\"{{ url_for('a') }}\">"
    assert template_problems(good_html, "x.html") == []
