#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The project's one test command ("make test"). On a fresh Debian machine, as root:
#
#   1. scripts/bootstrap.sh          apt packages, Python >= 3.12, .venv with requirements-dev.txt,
#                                    ansible.windows in .venv/collections (and .venv-oldest's)
#   2. scripts/engine.sh start       private dockerd + registries on loopback (stopped at exit if
#                                    this run started them)
#      scripts/sshd.sh start         a throwaway sshd on 127.0.0.1 whose logins reach that engine,
#                                    for the integration tests over "ssh" (stopped at exit if this
#                                    run started it)
#   3. scripts/test-images.sh        offline test images, pushed to both registries
#   4. scripts/build-collection.sh   ansible-galaxy collection build + install into a temporary
#                                    directory; exported as WC_COLLECTIONS_PATH
#   5. scripts/sanity.sh             ansible-test sanity on the installed collection
#      ansible-lint                  production profile, against the installed collection
#      pytest tests/publish          the publishing gates, with .venv-gates (galaxy-importer, antsibull-docs,
#                                    ansible-builder create from a fresh clone)
#   6. pytest tests/unit, tests/windows, tests/contract, tests/integration; then tests/unit,
#      tests/contract and the docker_image_info/_tag integration tests again on the oldest
#      ansible-core that meta/runtime.yml claims (.venv-oldest; its contract tests in the
#      background, beside the integration tests). tests/windows runs on Windows itself
#      (docs/testing-on-windows.md); here its Linux part runs (every exec it would send is
#      built and checked against the collection's own requests) and each test that needs
#      Windows is reported as skipped, with the reason
#   7. (results of the background phases)
#   8. molecule                      every scenario in extensions/molecule (windows* scenarios
#                                    only when WINRM_HOST is set)
#
# Every test phase runs even when an earlier one failed; the summary lists them all and the
# exit status is non-zero when any failed. Logs and JUnit files: tests/output/.
# Sanity, ansible-lint and the oldest ansible-core's contract tests need no engine: by default
# they run in the background while other suites run (their output is shown when they finish);
# WC_TEST_PARALLEL=0 runs everything one after the other.
#
# Environment:
#   WC_TEST_ONLY="unit integration"   run only these test phases (unit windows contract
#                                     integration oldest sanity lint publish molecule)
#   WC_LARGE_IMAGE=1                  also build wctest/large:1.0 (~300 MB, interrupted pulls)
#   WC_KEEP_ENGINE=1                  leave the engine (and sshd) running at exit even if started here
#   WC_KEEP_TMP=1                     keep the temporary collection directory
#   WC_PHASE_TIMEOUT=<seconds>        per-phase time limit (default 1200)
#   WC_TEST_PARALLEL=0                no background phases

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

OUT="${REPO_ROOT}/tests/output"
LOG_DIR="${OUT}/logs"
mkdir -p "$LOG_DIR"
export WC_LOG_DIR="$LOG_DIR"
PHASE_TIMEOUT="${WC_PHASE_TIMEOUT:-1200}"
ONLY=" ${WC_TEST_ONLY:-} "
ONLY="${ONLY//,/ }"

PHASES=()
STATUSES=()
DURATIONS=()
NOTES=()
FAILED=0
RUN_START=$SECONDS

say() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }

record() {  # record NAME STATUS SECONDS [NOTE]
    PHASES+=("$1"); STATUSES+=("$2"); DURATIONS+=("$3"); NOTES+=("${4:-}")
    if [[ "$2" == FAIL ]]; then FAILED=1; fi
}

summary() {
    local i total=$((SECONDS - RUN_START))
    printf '\n==> Summary (%dm%02ds)\n' $((total / 60)) $((total % 60))
    for i in "${!PHASES[@]}"; do
        printf '    %-50s %-5s %5ss  %s\n' "${PHASES[$i]}" "${STATUSES[$i]}" "${DURATIONS[$i]}" "${NOTES[$i]}"
    done
    if ((FAILED)); then
        printf '==> FAILED (logs: %s)\n' "$LOG_DIR"
    else
        printf '==> OK\n'
    fi
}

wanted() {  # wanted PHASE: selected by WC_TEST_ONLY (or no selection)
    [[ -z "${WC_TEST_ONLY:-}" || "$ONLY" == *" $1 "* ]]
}

# setup_step NAME CMD...: a prerequisite; on failure print the summary and stop.
setup_step() {
    local name="$1" start=$SECONDS rc=0; shift
    say "$name"
    "$@" || rc=$?
    if ((rc != 0)); then
        record "$name" FAIL $((SECONDS - start)) "rc=$rc"
        summary
        exit 1
    fi
    record "$name" ok $((SECONDS - start))
}

# test_step NAME CMD...: a test phase, under the per-phase timeout.
test_step() {
    local name="$1" start=$SECONDS rc=0; shift
    say "$name"
    # shell functions run through "bash -c" (they are exported) so that timeout can run them
    timeout --kill-after=30 "$PHASE_TIMEOUT" bash -c '"$@"' wc-phase "$@" || rc=$?
    if ((rc == 124 || rc == 137)); then
        record "$name" FAIL $((SECONDS - start)) "timed out after ${PHASE_TIMEOUT}s"
    elif ((rc != 0)); then
        record "$name" FAIL $((SECONDS - start)) "rc=$rc"
    else
        record "$name" ok $((SECONDS - start))
    fi
}

skip_step() {  # skip_step NAME WHY
    say "$1"
    note "skipped: $2"
    record "$1" skip 0 "$2"
}

# Background phases: bg_start NAME CMD... now, bg_finish later (in start order).
BG_NAMES=()
BG_PIDS=()
BG_FILES=()
bg_start() {
    local name="$1" file; shift
    file="$(mktemp "${LOG_DIR}/bg.XXXXXX")"
    say "$name (started in the background)"
    (
        start=$SECONDS
        rc=0
        timeout --kill-after=30 "$PHASE_TIMEOUT" bash -c '"$@"' wc-phase "$@" >"${file}.out" 2>&1 &
        tpid=$!
        trap 'kill -TERM "$tpid" 2>/dev/null; exit 143' TERM
        wait "$tpid" || rc=$?
        echo "$rc $((SECONDS - start))" >"${file}.status"
    ) &
    BG_NAMES+=("$name"); BG_PIDS+=("$!"); BG_FILES+=("$file")
}
bg_finish() {
    local i rc secs
    for i in "${!BG_NAMES[@]}"; do
        wait "${BG_PIDS[$i]}" || true
        read -r rc secs <"${BG_FILES[$i]}.status" || { rc=1; secs=0; }
        say "${BG_NAMES[$i]} (ran in the background)"
        cat "${BG_FILES[$i]}.out"
        rm -f "${BG_FILES[$i]}" "${BG_FILES[$i]}.out" "${BG_FILES[$i]}.status"
        if ((rc == 124 || rc == 137)); then
            record "${BG_NAMES[$i]}" FAIL "$secs" "timed out after ${PHASE_TIMEOUT}s"
        elif ((rc != 0)); then
            record "${BG_NAMES[$i]}" FAIL "$secs" "rc=$rc"
        else
            record "${BG_NAMES[$i]}" ok "$secs"
        fi
    done
    BG_NAMES=(); BG_PIDS=(); BG_FILES=()
}

# step NAME CMD...: a static-analysis phase, in the background when WC_TEST_PARALLEL allows.
static_step() {
    if [[ "${WC_TEST_PARALLEL:-1}" != 0 ]]; then bg_start "$@"; else test_step "$@"; fi
}

# --- 1. bootstrap ---------------------------------------------------------------------------
setup_step bootstrap bash scripts/bootstrap.sh
export VENV_BIN="${REPO_ROOT}/.venv/bin" OUT LOG_DIR
export PATH="${VENV_BIN}:${PATH}"
export HYPOTHESIS_STORAGE_DIRECTORY="${OUT}/hypothesis"  # keep .hypothesis/ out of the tree
export ANSIBLE_NOCOLOR=1

# --- 2. engine --------------------------------------------------------------------------------
ENGINE_DIR="${WC_ENGINE_DIR:-/tmp/wincontainers-engine}"
STARTED_ENGINE=0
STARTED_SSHD=0
TMP_DIR=""
cleanup() {
    local rc=$? p
    for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    if ((${#BG_PIDS[@]})); then wait 2>/dev/null || true; fi
    if [[ "$STARTED_SSHD" == 1 && "${WC_KEEP_ENGINE:-0}" != 1 ]]; then
        printf '\n==> stopping the sshd started by this run\n'
        bash scripts/sshd.sh stop || rc=1
    fi
    if [[ "$STARTED_ENGINE" == 1 && "${WC_KEEP_ENGINE:-0}" != 1 ]]; then
        printf '\n==> stopping the engine started by this run\n'
        bash scripts/engine.sh stop || rc=1
    fi
    if [[ -n "$TMP_DIR" && "${WC_KEEP_TMP:-0}" != 1 ]]; then rm -rf "$TMP_DIR"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

engine_start() {
    if bash scripts/engine.sh status >/dev/null 2>&1; then
        note "engine already running (${ENGINE_DIR}); it will be left running"
    else
        STARTED_ENGINE=1
    fi
    bash scripts/engine.sh start
}
setup_step engine engine_start

sshd_start() {
    if bash scripts/sshd.sh status >/dev/null 2>&1; then
        note "sshd already running; it will be left running"
    else
        STARTED_SSHD=1
    fi
    bash scripts/sshd.sh start
}
setup_step sshd sshd_start
# shellcheck disable=SC1091
source "${ENGINE_DIR}/env"

# --- 3. test images -----------------------------------------------------------------------
setup_step test-images bash scripts/test-images.sh

# --- 4. collection build + install ------------------------------------------------------------
TMP_DIR="$(mktemp -d /tmp/wincontainers-test.XXXXXX)"
build_collection() {
    local line
    line="$(bash scripts/build-collection.sh "${TMP_DIR}")" || return 1
    eval "$line"
    export WC_COLLECTIONS_PATH
    note "WC_COLLECTIONS_PATH=${WC_COLLECTIONS_PATH}"
}
setup_step collection build_collection

# --- 5. static analysis (no engine needed; background by default) ----------------------------------
# The collections the content depends on (ansible.windows: the container_host role's reboot), which
# scripts/bootstrap.sh installs into .venv/collections (Galaxy is not reachable).
export DEPENDENCY_COLLECTIONS="${REPO_ROOT}/.venv/collections"
run_lint() {
    # The installed build makes wincontainers.images.* resolvable for syntax-check, the dependencies
    # ansible.windows.*.
    ANSIBLE_COLLECTIONS_PATH="${WC_COLLECTIONS_PATH}:${DEPENDENCY_COLLECTIONS}" "${VENV_BIN}/ansible-lint" --nocolor 2>&1 |
        tee "${LOG_DIR}/ansible-lint.log"
    return "${PIPESTATUS[0]}"
}
export -f run_lint
if wanted sanity; then
    static_step "ansible-test sanity" bash scripts/sanity.sh
fi
if wanted lint; then
    static_step "ansible-lint (production)" run_lint
fi

# --- 6. pytest suites ---------------------------------------------------------------------------
has_test_files() {
    [[ -n "$(find "$1" \( -name 'test_*.py' -o -name '*_test.py' \) -print -quit 2>/dev/null)" ]]
}

pytest_suite() {  # pytest_suite NAME VENV_BIN PATH...: pytest of PATH... (a directory: a whole suite)
    local name="$1" venv_bin="$2" rc=0
    shift 2
    "${venv_bin}/python" -m pytest "$@" -p no:cacheprovider -ra \
        --junitxml="${OUT}/junit-${name}.xml" || rc=$?
    if ((rc == 5)); then
        if has_test_files "$1"; then
            echo "pytest collected no tests from $*, which has test files: failing" >&2
            return 5
        fi
        echo "no tests in $* yet (pytest exit 5): nothing to run" >&2
        return 0
    fi
    return "$rc"
}

export -f has_test_files pytest_suite

# Publishing gates (.venv-gates): galaxy-importer on the built tarball, build_ignore, antsibull-docs lint, the
# module reference, ansible-builder create from a fresh clone. No engine needed (about 2 minutes).
if wanted publish; then
    static_step "pytest tests/publish (galaxy-importer, antsibull-docs, ansible-builder)" \
        pytest_suite publish "${REPO_ROOT}/.venv-gates/bin" tests/publish
fi

# The oldest claimed ansible-core runs the unit tests, the contract tests that drive its own
# winrm, psrp and ssh plugins (they wrap and pass commands differently from the newest), and the
# integration tests of the two foundation modules over its local connection. Its contract tests
# need no engine: by default they run in the background beside the integration tests.
OLDEST_BIN="${REPO_ROOT}/.venv-oldest/bin"
oldest="ansible-core $("${OLDEST_BIN}/python" -c 'from ansible.release import __version__; print(__version__)')"

for suite in unit windows contract integration; do
    if [[ "$suite" == integration ]] && wanted oldest; then
        static_step "pytest tests/contract (${oldest})" pytest_suite contract-oldest "$OLDEST_BIN" tests/contract
    fi
    if ! wanted "$suite"; then continue; fi
    if [[ ! -d "tests/${suite}" ]]; then
        skip_step "pytest tests/${suite}" "tests/${suite} does not exist yet"
        continue
    fi
    test_step "pytest tests/${suite}" pytest_suite "$suite" "$VENV_BIN" "tests/${suite}"
done

if wanted oldest; then
    test_step "pytest tests/unit (${oldest})" pytest_suite unit-oldest "$OLDEST_BIN" tests/unit
    test_step "pytest info+tag integration (${oldest})" pytest_suite integration-oldest "$OLDEST_BIN" \
        tests/integration/test_docker_image_info.py tests/integration/test_docker_image_tag.py
fi

# --- 7. results of the background phases ------------------------------------------------------
bg_finish

# --- 8. molecule ----------------------------------------------------------------------------------
run_molecule() {  # run_molecule SCENARIO
    (
        export MOLECULE_PYTHON="${VENV_BIN}/python"
        # molecule.yml's collections path is WC_COLLECTIONS_PATH: the build, then its dependencies
        export WC_COLLECTIONS_PATH="${WC_COLLECTIONS_PATH}:${DEPENDENCY_COLLECTIONS}"
        export ANSIBLE_COLLECTIONS_PATH="$WC_COLLECTIONS_PATH"
        "${VENV_BIN}/molecule" test -s "$1"
    ) 2>&1 | tee "${LOG_DIR}/molecule-$1.log"
    return "${PIPESTATUS[0]}"
}
export -f run_molecule
if wanted molecule; then
    scenarios=()
    for f in extensions/molecule/*/molecule.yml; do
        [[ -f "$f" ]] && scenarios+=("$(basename "$(dirname "$f")")")
    done
    if ((${#scenarios[@]} == 0)); then
        skip_step molecule "no scenario in extensions/molecule yet"
    fi
    for s in "${scenarios[@]}"; do
        if [[ "$s" == windows* && -z "${WINRM_HOST:-}" ]]; then
            skip_step "molecule ${s}" "needs a Windows host (WINRM_HOST and the other WINRM_* variables)"
            continue
        fi
        test_step "molecule ${s}" run_molecule "$s"
    done
fi

summary
((FAILED == 0))
