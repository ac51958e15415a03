# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The constant PowerShell scripts: they parse, they are pinned, and they are what gets sent.

No PowerShell runs here: tree-sitter-pwsh parses the scripts and their files. Their texts are
pinned in tests/contract/script_pins.py (checked by test_script_pins.py).
"""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_pwsh

from ansible_collections.wincontainers.images.plugins.plugin_utils import powershell_scripts, script_files
from ansible_collections.wincontainers.images.plugins.plugin_utils.dialect import (
    POWERSHELL_PREFIX,
    WindowsDialect,
    encode_request,
)

SCRIPTS = powershell_scripts.SCRIPTS
BOOTSTRAP = powershell_scripts.BOOTSTRAP
CMD_EXE_LIMIT = 8191

# Every PowerShell text of the module: the scripts, the fragments they are built from
# (PRELUDE, JOB_DISCARD...: each is part of a script), and standalone command texts
# (BOOTSTRAP, which every exec runs as its -EncodedCommand, and any other such as the
# detached job runner's bootstrap).
CONSTANTS = {
    name: value for name, value in vars(powershell_scripts).items() if name.isupper() and isinstance(value, str)
}
STANDALONE = {
    "_" + name.lower(): value
    for name, value in CONSTANTS.items()
    if not any(value in script for script in SCRIPTS.values())
}
# What is sent to a host: the scripts as the bootstrap compiles them, and the standalone texts.
ALL_TEXTS = {**SCRIPTS, **STANDALONE}

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))


def walk(node):
    """Every node of the tree, anonymous ones included, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def syntax_problems(text: str) -> list[str]:
    """The error and missing nodes of the parse of ``text``, each with its position."""
    tree = PARSER.parse(text.encode("utf-8"))
    problems = []
    for node in walk(tree.root_node):
        if node.type == "ERROR" or node.is_error or node.is_missing:
            row, column = node.start_point
            kind = "missing %r" % node.type if node.is_missing else "error"
            snippet = text.encode("utf-8")[node.start_byte:node.end_byte][:60].decode("utf-8", "replace")
            problems.append("line %d col %d: %s near %r" % (row + 1, column + 1, kind, snippet))
    if tree.root_node.has_error and not problems:
        problems.append("the tree reports an error but no error node was found")
    return problems


# --- syntax ------------------------------------------------------------------------------

def test_the_module_has_a_bootstrap_and_scripts():
    assert "_bootstrap" in STANDALONE and "run" in SCRIPTS


@pytest.mark.parametrize("name", sorted(set(ALL_TEXTS) | set(CONSTANTS)))
def test_script_parses_without_error(name):
    assert syntax_problems(ALL_TEXTS.get(name) or CONSTANTS[name]) == []


@pytest.mark.parametrize(
    "broken",
    [
        "function Broken { if ($a { 'x' } }",  # unclosed parenthesis
        "try { $x = 1 ",  # unclosed block
        "$x = @{ a = 1",  # unclosed hashtable
        "foreach ($i in ) { }",  # missing expression
        SCRIPTS["run"][: SCRIPTS["run"].rindex("}")],  # a real script without its last brace
    ],
)
def test_the_syntax_check_flags_broken_snippets(broken):
    assert syntax_problems(broken), "the check must flag %r" % broken[:80]


# Windows PowerShell 5.1 (the shell of every supported Windows Server) lacks these.
PWSH7_ONLY_NODES = {
    "ternary_expression",
    "ternary_argument_expression",
    "null_coalesce_expression",
    "null_coalesce_argument_expression",
    "pipeline_chain_tail",  # && and ||
}
PWSH7_ONLY_PARAMETERS = {"-ashashtable", "-parallel"}  # ConvertFrom-Json, ForEach-Object


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_script_uses_only_windows_powershell_5_1_syntax(name):
    text = ALL_TEXTS[name]
    tree = PARSER.parse(text.encode("utf-8"))
    found = []
    for node in walk(tree.root_node):
        if node.type in PWSH7_ONLY_NODES:
            found.append(node.type)
        if node.type == "assignment_operator" and node.text == b"??=":
            found.append("??=")
        if node.type == "command_parameter" and node.text.decode().lower() in PWSH7_ONLY_PARAMETERS:
            found.append(node.text.decode())
    assert found == []


def test_the_5_1_check_flags_powershell_7_syntax():
    text = "$a = $b ? 1 : 2; $c = $d ?? 3; a && b; $e = ConvertFrom-Json -AsHashtable $f"
    types = {node.type for node in walk(PARSER.parse(text.encode()).root_node)}
    assert {"ternary_expression", "null_coalesce_expression", "pipeline_chain_tail"} <= types


def input_references_inside_blocks(text: str) -> list[str]:
    """``$input`` read inside a function or script block, where it is that block's own input."""
    tree = PARSER.parse(text.encode("utf-8"))
    bad = []
    for node in walk(tree.root_node):
        if node.type != "variable":
            continue
        name = node.text.decode("utf-8").lower()
        if name not in ("$input", "${input}"):
            continue
        parent = node.parent
        while parent is not None:
            if parent.type in ("function_statement", "script_block_expression"):
                bad.append("line %d: %s inside %s" % (node.start_point[0] + 1, node.text.decode(), parent.type))
                break
            parent = parent.parent
    return bad


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_input_is_read_at_the_top_level_of_the_script(name):
    # Inside a function, $input is that function's pipeline input (empty when it is called
    # without one), not the request the script received.
    assert input_references_inside_blocks(ALL_TEXTS[name]) == []


def test_the_input_check_flags_input_inside_a_function():
    text = "function Read-Request {\n    param()\n    $text = @($Input) -join \"`n\"\n}\n$top = $input\n"
    assert input_references_inside_blocks(text) == ["line 3: $Input inside function_statement"]


# --- what is sent -------------------------------------------------------------------------

def test_scripts_are_assembled_from_their_files_only():
    # Fixed text: each script is its part files, as PARTS declares, read at import.
    assert set(SCRIPTS) == set(powershell_scripts.PARTS)
    for operation, parts in powershell_scripts.PARTS.items():
        texts = {**SCRIPTS, "job_runner_bootstrap": powershell_scripts.JOB_RUNNER_BOOTSTRAP}
        assert SCRIPTS[operation] == powershell_scripts.assemble(parts, texts), operation
        assert powershell_scripts.PAYLOADS[operation] == script_files.deflate_base64(SCRIPTS[operation])
    assert isinstance(BOOTSTRAP, str) and "\n" not in BOOTSTRAP


PART_FILES = sorted(Path(script_files.ROOT, "powershell").glob("*.ps1"))


def test_every_part_file_is_used():
    used = {"bootstrap", "job_runner_bootstrap"}
    for parts in powershell_scripts.PARTS.values():
        used.update(part if isinstance(part, str) else part.script for part in parts)
    assert sorted(path.stem for path in PART_FILES) == sorted(used)


@pytest.mark.parametrize("path", PART_FILES, ids=lambda path: path.name)
def test_every_file_parses_on_its_own(path):
    # What an editor, PSScriptAnalyzer or ansible-test's pslint sees: real PowerShell.
    assert syntax_problems(path.read_text(encoding="utf-8")) == []


def tokens(text: str) -> list[tuple[str, bytes]]:
    """The leaves of the parse, comments left out: what minifying must not change."""
    tree = PARSER.parse(text.encode("utf-8"))
    return [(node.type, node.text) for node in walk(tree.root_node)
            if not node.children and node.type != "comment" and node.text.strip()]


@pytest.mark.parametrize("operation", sorted(SCRIPTS))
def test_minifying_changes_only_whitespace_and_comments(operation):
    texts = {**SCRIPTS, "job_runner_bootstrap": powershell_scripts.JOB_RUNNER_BOOTSTRAP}
    full = powershell_scripts.assemble(powershell_scripts.PARTS[operation], texts, minify=False)
    assert full != SCRIPTS[operation] and "#" in full
    assert tokens(SCRIPTS[operation]) == tokens(full)


def test_the_token_check_sees_a_change_inside_a_string():
    # A multi-line string whose lines lose their indentation is a different string.
    text = "$a = 'one\n    two'\n"
    assert tokens(script_files.minify_powershell(text)) != tokens(text)


@pytest.mark.parametrize("operation", sorted(SCRIPTS))
def test_command_is_the_constant_bootstrap_and_stdin_carries_the_exact_script(operation):
    dialect = WindowsDialect()
    command = dialect.command(operation)
    assert command.startswith(POWERSHELL_PREFIX)
    decoded = base64.b64decode(command[len(POWERSHELL_PREFIX):], validate=True).decode("utf-16-le")
    assert decoded == BOOTSTRAP

    payload = {"calls": [{"exe": "docker", "cmdline": '"naïve \u2018quoted\u2019" it\'s'}], "parallel": 1}
    stdin = dialect.stdin(operation, payload)
    stdin.decode("ascii")  # nothing outside ASCII travels, whatever the code page
    script_line, request_line = stdin.split(b"\n", 1)
    assert zlib.decompress(base64.b64decode(script_line, validate=True), -15).decode("utf-8") == SCRIPTS[operation]
    assert request_line == encode_request(payload)
    assert stdin.count(b"\n") == 2 and stdin.endswith(b"\n")


@pytest.mark.parametrize("operation", sorted(SCRIPTS))
def test_command_line_is_far_below_the_cmd_exe_limit(operation):
    dialect = WindowsDialect()
    command = dialect.command(operation)
    huge = {"calls": [{"exe": "docker", "cmdline": "x" * 200_000}]}
    assert len(dialect.stdin(operation, huge)) > 200_000  # the payload goes to stdin ...
    assert dialect.command(operation) == command  # ... and never changes the command
    print("%s: command line %d characters (limit %d), script %d characters"
          % (operation, len(command), CMD_EXE_LIMIT, len(SCRIPTS[operation])))
    assert len(command) < CMD_EXE_LIMIT
    assert len(command) < CMD_EXE_LIMIT // 4, "far below the limit, whatever later scripts add"


@pytest.mark.parametrize("name", sorted(STANDALONE))
def test_standalone_commands_are_far_below_the_cmd_exe_limit(name):
    encoded = base64.b64encode(STANDALONE[name].encode("utf-16-le")).decode("ascii")
    command = POWERSHELL_PREFIX + encoded
    print("%s: command line %d characters (limit %d)" % (name, len(command), CMD_EXE_LIMIT))
    assert len(command) < CMD_EXE_LIMIT // 4


def test_unknown_operation_is_refused():
    with pytest.raises(KeyError):
        WindowsDialect().command("no-such-operation")
