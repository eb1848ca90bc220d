"""Every message is translated into zh_CN and en, and the compiled catalogs are current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ("zh_Hans_CN", "en")
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "N_": None,
}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def catalog_dirs() -> list[tuple[Path, Path]]:
    """(source directory, translations directory) of the core and of each plugin that has one."""
    out = [(ROOT / "core", ROOT / "core" / "translations")]
    for plugin in sorted((ROOT / "plugins").iterdir()):
        if (plugin / "translations").is_dir():
            out.append((plugin, plugin / "translations"))
    out.append(
        (
            ROOT / "tests" / "plugins" / "service_complaint",
            ROOT / "tests" / "plugins" / "service_complaint" / "translations",
        )
    )
    return out


def extracted(source: Path) -> set[str]:
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(source), METHODS, keywords=KEYWORDS
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def load(translations: Path, locale: str):
    with open(translations / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=locale)


def test_plugins_with_strings_carry_their_own_catalogs():
    for plugin in sorted((ROOT / "plugins").iterdir()):
        if plugin.is_dir() and extracted(plugin):
            assert (plugin / "translations").is_dir(), f"{plugin.name} has messages but no catalogs"


@pytest.mark.parametrize(("source", "translations"), catalog_dirs(), ids=lambda p: p.name)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(source, translations, locale):
    catalog = load(translations, locale)
    translated = {m.id: m for m in catalog if m.id}
    missing = sorted(extracted(source) - set(translated))
    assert missing == [], f"not in the {locale} catalog: {missing}"
    empty = sorted(m.id for m in translated.values() if not m.string or m.fuzzy)
    assert empty == [], f"untranslated in {locale}: {empty}"
    for m in translated.values():
        assert set(PLACEHOLDER.findall(m.id)) == set(PLACEHOLDER.findall(m.string)), m.id


@pytest.mark.parametrize(("source", "translations"), catalog_dirs(), ids=lambda p: p.name)
def test_compiled_catalogs_are_current(source, translations):
    """Each .mo carries the same translations as its .po: the messages are compared, not the
    bytes, so a new Babel release writing another header does not fail the suite."""
    for po in translations.glob("*/LC_MESSAGES/messages.po"):
        locale = po.parts[-3]
        with open(po.with_suffix(".mo"), "rb") as fh:
            compiled = read_mo(fh)
        source_catalog = load(translations, locale)
        wanted = {m.id: m.string for m in source_catalog if m.id and m.string and not m.fuzzy}
        have = {m.id: m.string for m in compiled if m.id}
        assert have == wanted, f"recompile {po}"
