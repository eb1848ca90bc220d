#!/usr/bin/env bash
# Re-extract the core's messages and merge them into the zh_Hans_CN and en catalogs.
# Translate the new entries in core/translations/*/LC_MESSAGES/messages.po, then compile:
#   pybabel compile -d core/translations
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
  --project=kesu --version=0.1.0 -o core/translations/messages.pot core
pybabel update -i core/translations/messages.pot -d core/translations --no-fuzzy-matching --ignore-obsolete
