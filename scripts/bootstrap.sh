#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Prepare a machine to develop and test wincontainers.images. Idempotent.
#
#   1. (root, Debian) apt packages: Docker engine, registry, openssl, busybox-static, OpenSSH
#      server and client (scripts/sshd.sh), ...
#      "apt-get update" runs only when a package is missing.
#   2. A Python >= 3.12 (ansible-core 2.21 needs it): $WC_PYTHON, then
#      /root/.pyenv/versions/3.12*/bin/python, then python3.12 / python3.13 / python3 on PATH.
#   3. .venv in the repository root, with requirements-dev.txt installed, and .venv-oldest with
#      requirements-oldest.txt (the oldest ansible-core that meta/runtime.yml claims), and .venv-gates with
#      requirements-gates.txt (galaxy-importer, antsibull-docs: tests/publish); each is
#      skipped when its .requirements.sha256 records the same requirements hash and Python.
#
# Environment: WC_SKIP_APT=1 skips step 1 (e.g. when not root); WC_PYTHON=/path/python
# forces the interpreter.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${REPO_ROOT}/.venv"
OLDEST_VENV="${REPO_ROOT}/.venv-oldest"
LOG_DIR="${REPO_ROOT}/tests/output/bootstrap"

APT_PACKAGES=(
    docker.io docker-registry containerd runc   # engine + registry
    openssl ca-certificates curl                # test CA, registry health checks
    busybox-static tar gzip                     # offline test images
    make git procps                             # test entry point, ansible-galaxy build
    openssh-server openssh-client python3       # loopback sshd: integration tests over "ssh" (scripts/sshd.sh)
    shellcheck                                  # ansible-test sanity: shellcheck test
    chromium fonts-dejavu-core                  # fleet report rendered headless (tests/integration/test_report.py)
)

log() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: ERROR: %s\n' "$*" >&2; exit 1; }

run_logged() {  # run_logged LOGNAME cmd...: quiet unless it fails
    local name="$1"; shift
    mkdir -p "$LOG_DIR"
    local logf="${LOG_DIR}/${name}.log"
    if ! "$@" >"$logf" 2>&1; then
        printf 'bootstrap: ERROR: "%s" failed; last lines of %s:\n' "$*" "$logf" >&2
        tail -n 30 "$logf" >&2
        exit 1
    fi
}

# --- 1. system packages --------------------------------------------------------------------

install_apt_packages() {
    if [[ "${WC_SKIP_APT:-0}" == "1" ]]; then
        log "WC_SKIP_APT=1: not checking system packages"
        return 0
    fi
    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        log "not a Debian-like system; make sure these are installed: ${APT_PACKAGES[*]}"
        return 0
    fi
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != "installed" ]]; then
            missing+=("$p")
        fi
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    [[ "$(id -u)" == "0" ]] || die "missing packages (${missing[*]}) and not root; install them or set WC_SKIP_APT=1"
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    run_logged apt-update apt-get update -q
    run_logged apt-install apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# --- 2. Python >= 3.12 --------------------------------------------------------------------------

python_ok() {  # python_ok PATH: executable and >= 3.12 with venv support
    [[ -n "${1:-}" && -x "$1" ]] &&
        "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
    local c
    if [[ -n "${WC_PYTHON:-}" ]]; then
        python_ok "$WC_PYTHON" || die "WC_PYTHON=${WC_PYTHON} is not a Python >= 3.12 with venv/ensurepip"
        echo "$WC_PYTHON"; return 0
    fi
    # pyenv builds first (newest 3.12 patch release), then interpreters on PATH.
    local pyenv=()
    for c in /root/.pyenv/versions/3.12*/bin/python; do [[ -x "$c" ]] && pyenv+=("$c"); done
    if ((${#pyenv[@]})); then
        mapfile -t pyenv < <(printf '%s\n' "${pyenv[@]}" | sort -V -r)
    fi
    for c in "${pyenv[@]}" $(command -v python3.12 python3.13 python3.14 python3 2>/dev/null || true); do
        if python_ok "$c"; then echo "$c"; return 0; fi
    done
    die "no Python >= 3.12 found (tried /root/.pyenv/versions/3.12*/bin/python, python3.12, python3.13, python3.14, python3).
Install one (e.g. 'pyenv install 3.12' or the python3.12 package) or set WC_PYTHON=/path/to/python3.12"
}

# --- 3. virtual environment -----------------------------------------------------------------

setup_venv() {  # setup_venv VENV REQUIREMENTS: create VENV, install REQUIREMENTS into it
    local venv="$1" req="$2" py want have stamp="${1}/.requirements.sha256" name
    name="$(basename "$venv")"
    [[ -f "$req" ]] || die "missing ${req}"
    if [[ -x "${venv}/bin/python" ]] && python_ok "${venv}/bin/python"; then
        py="${venv}/bin/python"
    else
        py="$(find_python)"
        [[ -e "$venv" ]] && { log "replacing unusable ${venv}"; rm -rf "$venv"; }
        log "creating ${venv} with ${py} ($("$py" -V 2>&1))"
        run_logged "venv${name#.venv}" "$py" -m venv "$venv"
        py="${venv}/bin/python"
    fi
    # requirements-test.txt is included (-r) by both requirements files
    want="$(cat "$req" "${REPO_ROOT}/requirements-test.txt" <("$py" -c 'import sys; print(sys.version)') |
        sha256sum | cut -d' ' -f1)"
    have="$(cat "$stamp" 2>/dev/null || true)"
    if [[ "$want" == "$have" ]]; then
        return 0
    fi
    log "installing $(basename "$req") into ${venv} (takes a minute on a fresh machine)"
    run_logged "pip-install${name#.venv}" "$py" -m pip install --disable-pip-version-check -q -r "$req"
    run_logged "pip-check${name#.venv}" "$py" -m pip check
    echo "$want" >"$stamp"
}

install_apt_packages
setup_venv "$VENV" "${REPO_ROOT}/requirements-dev.txt"
setup_venv "$OLDEST_VENV" "${REPO_ROOT}/requirements-oldest.txt"
setup_venv "${REPO_ROOT}/.venv-gates" "${REPO_ROOT}/requirements-gates.txt"
log "ok ($("${VENV}/bin/python" -V 2>&1), $("${VENV}/bin/ansible" --version 2>/dev/null | head -n1);" \
    "$(basename "$OLDEST_VENV"): $("${OLDEST_VENV}/bin/ansible" --version 2>/dev/null | head -n1))"
