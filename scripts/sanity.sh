#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# ansible-test sanity on the collection, offline.
#
#   scripts/sanity.sh [COLLECTION_DIR] [-- extra ansible-test sanity arguments]
#
# COLLECTION_DIR must be laid out as .../ansible_collections/wincontainers/images (ansible-test
# requires it). Default: the collection installed in $WC_COLLECTIONS_PATH (scripts/test.sh sets
# it), else a fresh build + install under tests/output/sanity (scripts/build-collection.sh).
#
# Offline needs:
# * ansible-test bootstraps pip in its per-test virtual environments with get-pip.py from
#   ci-files.testing.ansible.com (unreachable); it uses ~/.ansible/test/cache/get_pip_<ver>.py
#   when present, so scripts/ansible_test_pip_bootstrap.py is installed there first.
# * The per-test requirements (pylint, yamllint, voluptuous, ...) come from PyPI, which is
#   reachable; the environments are cached in ~/.ansible/test/venv.
# * pslint needs PowerShell (pwsh), which no reachable repository provides: it is skipped,
#   with a notice, when pwsh is missing. shellcheck comes from apt (scripts/bootstrap.sh).
#
# Full log: $WC_LOG_DIR/sanity.log (scripts/test.sh), else tests/output/logs/sanity.XXXXXX.log.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_BIN="${REPO_ROOT}/.venv/bin"
PY="${VENV_BIN}/python"
LOG_DIR="${WC_LOG_DIR:-${REPO_ROOT}/tests/output/logs}"

log() { printf 'sanity: %s\n' "$*" >&2; }
die() { printf 'sanity: ERROR: %s\n' "$*" >&2; exit 1; }

[[ -x "$PY" && -x "${VENV_BIN}/ansible-test" ]] || die "no .venv with ansible-test; run scripts/bootstrap.sh"

COLL=""
if [[ $# -gt 0 && "$1" != "--" ]]; then COLL="$1"; shift; fi
[[ "${1:-}" == "--" ]] && shift
EXTRA=("$@")

if [[ -z "$COLL" ]]; then
    if [[ -n "${WC_COLLECTIONS_PATH:-}" ]]; then
        COLL="${WC_COLLECTIONS_PATH%%:*}"
        [[ "$(basename "$COLL")" == ansible_collections ]] || COLL="${COLL}/ansible_collections"
        COLL="${COLL}/wincontainers/images"
    else
        bash "${REPO_ROOT}/scripts/build-collection.sh" "${REPO_ROOT}/tests/output/sanity" >/dev/null
        COLL="${REPO_ROOT}/tests/output/sanity/collections/ansible_collections/wincontainers/images"
    fi
fi
[[ -d "$COLL" ]] || die "collection directory not found: ${COLL}"
COLL="$(cd "$COLL" && pwd)"
case "$COLL" in
    */ansible_collections/*/*) ;;
    *) die "${COLL} is not laid out as .../ansible_collections/NAMESPACE/NAME" ;;
esac

# The pip bootstrap stand-in, under the name ansible-test looks for.
PIP_VERSION="$("$PY" - <<'PYEOF'
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="3.12"))["pip"])
PYEOF
)" || die "could not read the pip version ansible-test bootstraps"
CACHE="${HOME}/.ansible/test/cache"
mkdir -p "$CACHE"
STANDIN="${CACHE}/get_pip_${PIP_VERSION//./_}.py"
if ! cmp -s "${REPO_ROOT}/scripts/ansible_test_pip_bootstrap.py" "$STANDIN"; then
    cp "${REPO_ROOT}/scripts/ansible_test_pip_bootstrap.py" "$STANDIN"
fi

PYVER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
ARGS=(sanity --python "$PYVER" --local --color no)
if ! command -v pwsh >/dev/null 2>&1; then
    log "notice: pwsh (PowerShell) is not installed and cannot be here: skipping the pslint test"
    ARGS+=(--skip-test pslint)
fi
if ! command -v shellcheck >/dev/null 2>&1; then
    log "notice: shellcheck is not installed (scripts/bootstrap.sh installs it): the shellcheck test will be skipped"
fi

mkdir -p "$LOG_DIR"
if [[ -n "${WC_LOG_DIR:-}" ]]; then
    LOG="${LOG_DIR}/sanity.log"
else  # a run by hand: do not clobber the log of another run
    LOG="$(mktemp "${LOG_DIR}/sanity.XXXXXX.log")"
fi
log "ansible-test ${ARGS[*]} ${EXTRA[*]:-} in ${COLL}"
set +e
(
    cd "$COLL"
    export PATH="${VENV_BIN}:${PATH}"
    export LC_ALL="${LC_ALL:-C.UTF-8}"
    "${VENV_BIN}/ansible-test" "${ARGS[@]}" "${EXTRA[@]}"
) >"$LOG" 2>&1
rc=$?
set -e
# Show what matters: tests run, problems found; the pip chatter stays in the log.
grep -aE '^(Running sanity test|ERROR|FATAL|WARNING: (Required|Skipping|Sanity))|^See documentation' "$LOG" | grep -av 'ignored: it is neither' >&2 || true
if ((rc != 0)); then
    log "FAILED (rc=${rc}); full log: ${LOG}"
    exit "$rc"
fi
log "ok; full log: ${LOG}"
