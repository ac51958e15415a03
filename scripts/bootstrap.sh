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
#   4. The Ansible collections the content needs besides itself (galaxy.yml "dependencies"):
#      ansible.windows (the container_host role restarts hosts with ansible.windows.win_reboot),
#      into <venv>/collections/ansible_collections/ansible/windows of each virtual environment.
#      Galaxy is not reachable from here, PyPI is: the pinned "ansible" package release that
#      bundles the pinned ansible.windows is downloaded once (pip download --no-deps, ~51 MB),
#      checked against its sha256, and only that collection's directory is extracted. Skipped
#      when the installed MANIFEST.json already names the pinned version. The tools find it on
#      their collections path: scripts/test.sh (ansible-lint, molecule) and the contract harness
#      (tests/contract/contract_harness.py) add <venv>/collections to ANSIBLE_COLLECTIONS_PATH.
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

# --- 4. collection dependencies ----------------------------------------------------------------

# ansible.windows, as the "ansible" package release ANSIBLE_BUNDLE bundles it (its
# ansible_collections/ansible/windows/MANIFEST.json names ANSIBLE_WINDOWS_VERSION). To move to a newer
# ansible.windows: pick the ansible release that bundles it, "pip download --no-deps ansible==X.Y.Z",
# put its sha256 here, and read tests/contract/fake_reboot.py (it pins win_reboot's commands).
ANSIBLE_WINDOWS_VERSION="3.8.0"
ANSIBLE_BUNDLE="ansible==14.5.0"
ANSIBLE_BUNDLE_FILE="ansible-14.5.0-py3-none-any.whl"
ANSIBLE_BUNDLE_SHA256="245623ccc2d31d0f6f4bdb63168d550cad305fb032cc43d96e8f61ce8ab0ba84"
BUNDLE_DIR=""
EXTRACT_DIR=""

collection_version() {  # collection_version DIR: the version its MANIFEST.json names, or nothing
    [[ -f "$1/MANIFEST.json" ]] || return 0
    "${VENV}/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' \
        "$1/MANIFEST.json" 2>/dev/null || true
}

download_bundle() {  # once per run: the checked wheel in $BUNDLE_DIR
    [[ -n "$BUNDLE_DIR" ]] && return 0
    BUNDLE_DIR="$(mktemp -d)"
    trap 'rm -rf "$BUNDLE_DIR" "$EXTRACT_DIR"' EXIT
    log "downloading ${ANSIBLE_BUNDLE} (for ansible.windows ${ANSIBLE_WINDOWS_VERSION}; ~51 MB)"
    run_logged pip-download-ansible "${VENV}/bin/python" -m pip download --disable-pip-version-check -q \
        --no-deps --only-binary=:all: -d "$BUNDLE_DIR" "$ANSIBLE_BUNDLE"
    local have
    [[ -f "${BUNDLE_DIR}/${ANSIBLE_BUNDLE_FILE}" ]] || die "pip download ${ANSIBLE_BUNDLE} gave no ${ANSIBLE_BUNDLE_FILE}"
    have="$(sha256sum "${BUNDLE_DIR}/${ANSIBLE_BUNDLE_FILE}" | cut -d' ' -f1)"
    [[ "$have" == "$ANSIBLE_BUNDLE_SHA256" ]] ||
        die "${ANSIBLE_BUNDLE_FILE} has sha256 ${have}, not ${ANSIBLE_BUNDLE_SHA256}: not installing it"
}

install_ansible_windows() {  # install_ansible_windows VENV: <VENV>/collections/ansible_collections/ansible/windows
    local dest="$1/collections/ansible_collections/ansible/windows"
    if [[ "$(collection_version "$dest")" == "$ANSIBLE_WINDOWS_VERSION" ]]; then
        return 0
    fi
    download_bundle
    mkdir -p "$1/collections"
    EXTRACT_DIR="$(mktemp -d "$1/collections/.extract.XXXXXX")"
    local tmp="$EXTRACT_DIR"
    # Only ansible_collections/ansible/windows/ of the wheel (a zip), no other collection, no file
    # outside that directory.
    "${VENV}/bin/python" - "${BUNDLE_DIR}/${ANSIBLE_BUNDLE_FILE}" "$tmp" <<'PYEOF' || die "could not extract ansible.windows"
import pathlib
import sys
import zipfile

prefix = "ansible_collections/ansible/windows/"
target = pathlib.Path(sys.argv[2]).resolve()
with zipfile.ZipFile(sys.argv[1]) as wheel:
    members = [m for m in wheel.namelist() if m.startswith(prefix) and not m.endswith("/")]
    if not members:
        sys.exit("no %s in %s" % (prefix, sys.argv[1]))
    for member in members:
        path = (target / member).resolve()
        if not path.is_relative_to(target):
            sys.exit("%s leaves the target directory" % member)
        wheel.extract(member, target)
PYEOF
    [[ "$(collection_version "${tmp}/ansible_collections/ansible/windows")" == "$ANSIBLE_WINDOWS_VERSION" ]] ||
        die "${ANSIBLE_BUNDLE_FILE} does not hold ansible.windows ${ANSIBLE_WINDOWS_VERSION}"
    mkdir -p "$(dirname "$dest")"
    rm -rf "$dest"
    mv "${tmp}/ansible_collections/ansible/windows" "$dest"
    rm -rf "$tmp"
    EXTRACT_DIR=""
    log "ansible.windows ${ANSIBLE_WINDOWS_VERSION} installed in $1/collections"
}

install_apt_packages
setup_venv "$VENV" "${REPO_ROOT}/requirements-dev.txt"
setup_venv "$OLDEST_VENV" "${REPO_ROOT}/requirements-oldest.txt"
setup_venv "${REPO_ROOT}/.venv-gates" "${REPO_ROOT}/requirements-gates.txt"
install_ansible_windows "$VENV"
install_ansible_windows "$OLDEST_VENV"
log "ok ($("${VENV}/bin/python" -V 2>&1), $("${VENV}/bin/ansible" --version 2>/dev/null | head -n1);" \
    "$(basename "$OLDEST_VENV"): $("${OLDEST_VENV}/bin/ansible" --version 2>/dev/null | head -n1);" \
    "ansible.windows ${ANSIBLE_WINDOWS_VERSION} in each <venv>/collections)"
