#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Generate the module reference docs/modules/*.md from the modules' own documentation, offline:
# `ansible-doc --json -t module wincontainers.images.<name>` for every module in plugins/modules/, converted
# to Markdown (options with suboptions, attributes, notes, examples, return values), plus docs/modules/README.md.
# Ansible markup (C(), O(), M(), ...) is rendered by antsibull-docs-parser, the library antsibull-docs uses.
#
#   scripts/gen-module-docs.sh            (re)write docs/modules/
#   scripts/gen-module-docs.sh --check    exit 1 when docs/modules/ differs from what would be generated
#
# The collection is made importable through a temporary collections path that links to this work tree.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${REPO_ROOT}/docs/modules"
BIN="${REPO_ROOT}/.venv/bin"
CHECK=0
[[ "${1:-}" == "--check" ]] && CHECK=1

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "${TMP}/collections/ansible_collections/wincontainers"
ln -s "$REPO_ROOT" "${TMP}/collections/ansible_collections/wincontainers/images"

modules=()
for f in "${REPO_ROOT}"/plugins/modules/*.py; do
    name="$(basename "$f" .py)"
    [[ "$name" == __init__ ]] && continue
    modules+=("wincontainers.images.${name}")
done

ANSIBLE_COLLECTIONS_PATH="${TMP}/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false ANSIBLE_NOCOLOR=1 \
    "${BIN}/ansible-doc" --json -t module "${modules[@]}" >"${TMP}/docs.json" 2>"${TMP}/ansible-doc.log" || {
    cat "${TMP}/ansible-doc.log" >&2
    echo "gen-module-docs: ansible-doc failed" >&2
    exit 1
}

mkdir -p "${TMP}/out"
"${BIN}/python" - "${TMP}/docs.json" "${TMP}/out" <<'PY'
"""Render ansible-doc's JSON as Markdown pages."""
import json
import sys
from pathlib import Path

from antsibull_docs_parser import dom
from antsibull_docs_parser.format import LinkProvider
from antsibull_docs_parser.md import to_md
from antsibull_docs_parser.parser import Context, parse

docs = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
out = Path(sys.argv[2])
PREFIX = "wincontainers.images."


class Links(LinkProvider):
    """Links to this collection's pages in docs/modules/; other plugins are left as names."""

    def plugin_link(self, plugin):
        if plugin.type == "module" and plugin.fqcn.startswith(PREFIX):
            return plugin.fqcn[len(PREFIX):] + ".md"
        return None


CURRENT = {"module": None}  # the module whose page is being written: O(...) and RV(...) without a plugin name are its own


def markup(text):
    """Ansible documentation markup -> Markdown, by antsibull-docs-parser."""
    plugin = CURRENT["module"]
    context = Context(current_plugin=dom.PluginIdentifier(fqcn=plugin, type="module") if plugin else None)
    return to_md(parse(str(text), context, errors="exception"), link_provider=Links(), par_sep=" ")


def paragraphs(value):
    if value is None:
        return []
    return [markup(v) for v in (value if isinstance(value, list) else [value])]


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def value(v):
    if v is None:
        return ""
    return "`" + json.dumps(v) + "`" if not isinstance(v, str) else f"`{v}`"


def option_rows(options, depth=0):
    rows = []
    for name in sorted(options):
        spec = options[name] or {}
        kind = spec.get("type", "str")
        if spec.get("elements"):
            kind += f" / elements {spec['elements']}"
        flags = []
        if spec.get("required"):
            flags.append("**required**")
        if spec.get("no_log"):
            flags.append("secret (no_log)")
        if spec.get("aliases"):
            flags.append("aliases: " + ", ".join(f"`{a}`" for a in spec["aliases"]))
        desc = " ".join(paragraphs(spec.get("description")))
        if spec.get("choices"):
            choices = spec["choices"]
            if isinstance(choices, dict):
                choices = list(choices)
            desc += " Choices: " + ", ".join(value(c) for c in choices) + "."
        indent = "&nbsp;&nbsp;&nbsp;&nbsp;" * depth + ("↳ " if depth else "")
        rows.append(f"| {indent}`{name}` | {cell(kind)} | {cell(value(spec.get('default')))} | "
                    f"{cell(' '.join(flags))} | {cell(desc)} |")
        if spec.get("suboptions"):
            rows.extend(option_rows(spec["suboptions"], depth + 1))
    return rows


def return_rows(values, depth=0):
    rows = []
    for name in sorted(values):
        spec = values[name] or {}
        kind = spec.get("type", "")
        if spec.get("elements"):
            kind += f" / elements {spec['elements']}"
        desc = " ".join(paragraphs(spec.get("description")))
        indent = "&nbsp;&nbsp;&nbsp;&nbsp;" * depth + ("↳ " if depth else "")
        rows.append(f"| {indent}`{name}` | {cell(kind)} | {cell(markup(spec.get('returned', '')))} | {cell(desc)} |")
        if spec.get("contains"):
            rows.extend(return_rows(spec["contains"], depth + 1))
    return rows


index = []
for full_name in sorted(docs):
    entry = docs[full_name]
    CURRENT["module"] = full_name
    doc = entry.get("doc") or {}
    short = full_name[len(PREFIX):] if full_name.startswith(PREFIX) else full_name
    lines = [f"# {short}", "", f"**{full_name}** — {markup(doc.get('short_description', ''))}", ""]
    lines.append("<!-- Generated by scripts/gen-module-docs.sh from the module's DOCUMENTATION; do not edit. -->")
    lines.append("")
    if doc.get("version_added"):
        lines += [f"Added in version {doc['version_added']}.", ""]
    lines += ["## Synopsis", ""]
    lines += [f"- {p}" for p in paragraphs(doc.get("description"))] + [""]
    if doc.get("requirements"):
        lines += ["## Requirements", ""] + [f"- {markup(r)}" for r in doc["requirements"]] + [""]
    if doc.get("options"):
        lines += ["## Options", "", "| option | type | default | | description |", "| --- | --- | --- | --- | --- |"]
        lines += option_rows(doc["options"]) + [""]
    if doc.get("attributes"):
        lines += ["## Attributes", "", "| attribute | support | description |", "| --- | --- | --- |"]
        for name in sorted(doc["attributes"]):
            attr = doc["attributes"][name]
            support = attr.get("support", "")
            extra = " ".join(paragraphs(attr.get("details")))
            desc = " ".join(paragraphs(attr.get("description"))) + (" " + extra if extra else "")
            lines.append(f"| `{name}` | {cell(support)} | {cell(desc)} |")
        lines.append("")
    if doc.get("notes"):
        lines += ["## Notes", ""] + [f"- {markup(n)}" for n in doc["notes"]] + [""]
    if doc.get("seealso"):
        lines += ["## See also", ""]
        for item in doc["seealso"]:
            if "module" in item:
                lines.append(f"- {markup('M(' + item['module'] + ')')}" + (f" — {markup(item['description'])}" if item.get("description") else ""))
            elif "link" in item:
                lines.append(f"- [{item.get('name', item['link'])}]({item['link']})")
            elif "ref" in item:
                lines.append(f"- {item.get('name', item['ref'])}")
        lines.append("")
    if entry.get("examples"):
        lines += ["## Examples", "", "```yaml", entry["examples"].strip("\n"), "```", ""]
    if entry.get("return"):
        lines += ["## Return values", "", "| key | type | returned | description |", "| --- | --- | --- | --- |"]
        lines += return_rows(entry["return"]) + [""]
    if doc.get("author"):
        authors = doc["author"] if isinstance(doc["author"], list) else [doc["author"]]
        lines += ["## Authors", ""] + [f"- {a}" for a in authors] + [""]
    (out / f"{short}.md").write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    index.append((short, markup(doc.get("short_description", ""))))

readme = ["# Module reference", "",
          "<!-- Generated by scripts/gen-module-docs.sh; do not edit. -->", "",
          "Generated from each module's own documentation (`ansible-doc -t module wincontainers.images.<name>`).", "",
          "| module | description |", "| --- | --- |"]
readme += [f"| [{name}]({name}.md) | {cell(desc)} |" for name, desc in index]
(out / "README.md").write_text("\n".join(readme) + "\n", encoding="utf-8")
PY

if ((CHECK)); then
    if ! diff -ru "$OUT" "${TMP}/out" >"${TMP}/diff.txt" 2>&1; then
        head -n 60 "${TMP}/diff.txt" >&2
        echo "gen-module-docs: docs/modules/ is out of date; run scripts/gen-module-docs.sh" >&2
        exit 1
    fi
    echo "gen-module-docs: docs/modules/ is up to date (${#modules[@]} modules)" >&2
    exit 0
fi
rm -rf "$OUT"
mkdir -p "$OUT"
cp "${TMP}/out/"*.md "$OUT/"
echo "gen-module-docs: wrote ${#modules[@]} module pages and README.md to ${OUT}" >&2
