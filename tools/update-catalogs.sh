#!/usr/bin/env bash
# Re-extract the messages of the core and of each built-in plugin, and merge them into their
# zh_Hans_CN and en catalogs. Translate the new entries in the .po files, then compile:
#   pybabel compile -d core/translations; pybabel compile -d plugins/<name>/translations
set -euo pipefail
cd "$(dirname "$0")/.."
keywords=(-k _l -k lazy_gettext -k N_)
update() {  # source directory, translations directory, project name
  mkdir -p "$2"
  pybabel extract -F babel.cfg "${keywords[@]}" --no-location --sort-output \
    --project="$3" --version=0.1.0 -o "$2/messages.pot" "$1"
  for locale in zh_Hans_CN en; do
    if [[ -f "$2/$locale/LC_MESSAGES/messages.po" ]]; then
      pybabel update -i "$2/messages.pot" -d "$2" -l "$locale" --no-fuzzy-matching --ignore-obsolete
    else
      pybabel init -i "$2/messages.pot" -d "$2" -l "$locale"
    fi
  done
}
update core core/translations kesu
for plugin in plugins/*/; do
  name=$(basename "$plugin")
  [[ -f "$plugin/plugin.py" ]] && update "$plugin" "$plugin/translations" "kesu-$name"
done
