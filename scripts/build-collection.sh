#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Build the collection from the work tree and install the tarball, offline:
#
#   scripts/build-collection.sh [DEST]      (default DEST: tests/output/collection)
#
# Leaves DEST/build/wincontainers-images-X.Y.Z.tar.gz and
# DEST/collections/ansible_collections/wincontainers/images, and prints
#   export WC_COLLECTIONS_PATH=DEST/collections
# on stdout (eval it to run the integration tests by hand).

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-${REPO_ROOT}/tests/output/collection}"
VENV_BIN="${REPO_ROOT}/.venv/bin"
GALAXY="${VENV_BIN}/ansible-galaxy"
[[ -x "$GALAXY" ]] || GALAXY="$(command -v ansible-galaxy || true)"
[[ -n "$GALAXY" ]] || { echo "build-collection: ERROR: ansible-galaxy not found; run scripts/bootstrap.sh" >&2; exit 1; }
[[ -f "${REPO_ROOT}/galaxy.yml" ]] || { echo "build-collection: ERROR: ${REPO_ROOT}/galaxy.yml missing" >&2; exit 1; }

mkdir -p "$DEST"
DEST="$(cd "$DEST" && pwd)"
rm -rf "${DEST}/build" "${DEST}/collections"
mkdir -p "${DEST}/build" "${DEST}/collections"

log="${DEST}/build.log"
if ! (cd "$REPO_ROOT" && "$GALAXY" collection build --force --output-path "${DEST}/build" .) >"$log" 2>&1; then
    echo "build-collection: ERROR: ansible-galaxy collection build failed:" >&2
    cat "$log" >&2
    exit 1
fi
tarball="$(ls "${DEST}"/build/*.tar.gz)"
if ! ANSIBLE_COLLECTIONS_PATH="${DEST}/collections" "$GALAXY" collection install --offline --no-deps --force \
    -p "${DEST}/collections" "$tarball" >>"$log" 2>&1; then
    echo "build-collection: ERROR: ansible-galaxy collection install failed:" >&2
    cat "$log" >&2
    exit 1
fi
[[ -f "${DEST}/collections/ansible_collections/wincontainers/images/MANIFEST.json" ]] ||
    { echo "build-collection: ERROR: installed collection not found under ${DEST}/collections" >&2; exit 1; }
echo "build-collection: $(basename "$tarball") installed in ${DEST}/collections" >&2
printf 'export WC_COLLECTIONS_PATH=%q\n' "${DEST}/collections"
