#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Build the AWX / Automation Controller execution environment of wincontainers.images with ansible-builder 3:
#
#   scripts/build-ee.sh [--create] [--tag NAME:TAG] [--runtime podman|docker]
#
#   1. builds the collection tarball into artifacts/ee/wincontainers-images.tar.gz (the name
#      meta/execution-environment.yml and meta/ee-collections.yml expect)
#   2. --create: ansible-builder create (writes the build context to $WC_EE_CONTEXT, default
#      artifacts/ee/context, no image);
#      otherwise ansible-builder build (needs podman or docker and access to the base image and PyPI).

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${REPO_ROOT}/artifacts/ee"   # fixed: meta/execution-environment.yml names the tarball there
CONTEXT="${WC_EE_CONTEXT:-${OUT}/context}"
VERSION="$(sed -n 's/^version: *//p' "${REPO_ROOT}/galaxy.yml")"
TAG="wincontainers-images-ee:${VERSION}"
MODE=build
RUNTIME=""
while (($#)); do
    case "$1" in
        --create) MODE=create ;;
        --tag) TAG="$2"; shift ;;
        --runtime) RUNTIME="$2"; shift ;;
        -h | --help) sed -n '3,13p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--create] [--tag NAME:TAG] [--runtime podman|docker]" >&2; exit 2 ;;
    esac
    shift
done

# The repository's .venv (scripts/bootstrap.sh) when there is one, else the ansible-galaxy and ansible-builder on
# PATH: a clean clone with `pip install ansible-core ansible-builder` is enough.
tool() {
    if [[ -x "${REPO_ROOT}/.venv/bin/$1" ]]; then echo "${REPO_ROOT}/.venv/bin/$1"; return; fi
    command -v "$1" || { echo "build-ee: ERROR: $1 not found (scripts/bootstrap.sh, or pip install $2)" >&2; exit 1; }
}
GALAXY="$(tool ansible-galaxy ansible-core)"
BUILDER="$(tool ansible-builder ansible-builder)"
mkdir -p "$OUT"
rm -f "${OUT}"/wincontainers-images-*.tar.gz
"$GALAXY" collection build --force --output-path "$OUT" "$REPO_ROOT" >/dev/null
mv -f "${OUT}/wincontainers-images-${VERSION}.tar.gz" "${OUT}/wincontainers-images.tar.gz"
echo "build-ee: collection tarball ${OUT}/wincontainers-images.tar.gz" >&2

args=(-f "${REPO_ROOT}/meta/execution-environment.yml" --context "$CONTEXT")
if [[ "$MODE" == create ]]; then
    "$BUILDER" create "${args[@]}"
    echo "build-ee: build context in ${CONTEXT}" >&2
else
    [[ -n "$RUNTIME" ]] && args+=(--container-runtime "$RUNTIME")
    "$BUILDER" build "${args[@]}" --tag "$TAG"
    echo "build-ee: image ${TAG}" >&2
fi
