#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Build the integration-test images offline inside the engine started by scripts/engine.sh
# and push copies to both local registries. Idempotent: an image already in the engine, or
# a tag already in a registry, is skipped.
#
#   scripts/test-images.sh [--large] [--no-push]
#
# Images (all from "docker import" of a root filesystem tarball made from busybox-static):
#   wctest/busybox:1.0   busybox + /bin applet links + /etc/passwd, CMD ["/bin/sh"]
#   wctest/busybox:2.0   same plus different content (another image ID)
#   wctest/large:1.0     only with --large (or WC_LARGE_IMAGE=1): adds a layer of
#                        ${WC_LARGE_IMAGE_MB:-300} MB of random data (interrupted-pull tests)
#
# Registry copies: $WC_REGISTRY_ANON/wctest/... (anonymous) and $WC_REGISTRY_AUTH/wctest/...
# (login as $WC_REGISTRY_USER with a throwaway DOCKER_CONFIG under $WC_ENGINE_DIR).

set -euo pipefail

DIR="${WC_ENGINE_DIR:-/tmp/wincontainers-engine}"
LARGE="${WC_LARGE_IMAGE:-0}"
LARGE_MB="${WC_LARGE_IMAGE_MB:-300}"
PUSH=1
for arg in "$@"; do
    case "$arg" in
        --large) LARGE=1 ;;
        --no-push) PUSH=0 ;;
        -h | --help) sed -n '3,19p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--large] [--no-push]" >&2; exit 2 ;;
    esac
done

log() { printf 'test-images: %s\n' "$*" >&2; }
die() { printf 'test-images: ERROR: %s\n' "$*" >&2; exit 1; }

[[ -s "${DIR}/env" ]] || die "${DIR}/env not found: start the engine first (scripts/engine.sh start)"
# shellcheck disable=SC1091
source "${DIR}/env"
docker version >/dev/null 2>&1 || die "the engine at DOCKER_HOST=${DOCKER_HOST} does not answer"

BUSYBOX="${WC_BUSYBOX:-$(command -v busybox || true)}"
[[ -n "$BUSYBOX" ]] || BUSYBOX=/bin/busybox
[[ -x "$BUSYBOX" ]] || die "busybox not found; install busybox-static (scripts/bootstrap.sh)"
[[ "$(head -c4 "$BUSYBOX" | tail -c3)" == "ELF" ]] || die "$BUSYBOX is not an ELF binary"

WORK="$(mktemp -d "${DIR}/images.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

image_present() { docker image inspect "$1" >/dev/null 2>&1; }

# make_rootfs DEST VERSION: a minimal busybox root filesystem.
make_rootfs() {
    local root="$1" version="$2" applet
    mkdir -p "$root"/{bin,etc,root,tmp,var,proc,sys,dev}
    chmod 1777 "$root/tmp"
    cp "$BUSYBOX" "$root/bin/busybox"
    chmod 755 "$root/bin/busybox"
    for applet in $("$BUSYBOX" --list); do
        [[ "$applet" == busybox ]] && continue
        ln -sf busybox "$root/bin/$applet"
    done
    ln -s bin "$root/sbin"
    mkdir -p "$root/usr"
    ln -s ../bin "$root/usr/bin"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    printf 'NAME=wctest-busybox\nVERSION=%s\n' "$version" >"$root/etc/wctest-release"
}

# pack ROOT TARBALL: reproducible tarball (sorted, fixed owner and mtime).
pack() {
    tar --sort=name --mtime='@0' --owner=0 --group=0 --numeric-owner -C "$1" -cf "$2" .
}

import_image() {  # import_image REF TARBALL VERSION
    docker import \
        --change 'CMD ["/bin/sh"]' \
        --change 'ENV PATH=/bin' \
        --change "LABEL org.wincontainers.test.version=$3" \
        --message "wincontainers.images test image $1" \
        "$2" "$1" >/dev/null
    log "built $1 ($(docker image inspect --format '{{.Id}}' "$1"))"
}

build_busybox() {  # build_busybox VERSION
    local ref="wctest/busybox:$1" root="${WORK}/rootfs-$1"
    if image_present "$ref"; then return 0; fi
    make_rootfs "$root" "$1"
    if [[ "$1" == "2.0" ]]; then
        mkdir -p "$root/srv"
        printf 'second test image: different content, different image ID\n' >"$root/srv/README"
    fi
    pack "$root" "${WORK}/busybox-$1.tar"
    import_image "$ref" "${WORK}/busybox-$1.tar" "$1"
}

build_large() {
    local ref="wctest/large:1.0" root="${WORK}/rootfs-large"
    if image_present "$ref"; then return 0; fi
    log "building ${ref} with ${LARGE_MB} MB of random data"
    make_rootfs "$root" "large-1.0"
    mkdir -p "$root/data"
    head -c "$((LARGE_MB * 1024 * 1024))" /dev/urandom >"$root/data/random.bin"
    pack "$root" "${WORK}/large.tar"
    rm -rf "$root"
    import_image "$ref" "${WORK}/large.tar" "large-1.0"
    rm -f "${WORK}/large.tar"
}

# registry_has REGISTRY REPO TAG [curl auth args...]: the tag's manifest exists.
registry_has() {
    local reg="$1" repo="$2" tag="$3" scheme=http; shift 3
    [[ "$reg" == "$WC_REGISTRY_AUTH" ]] && scheme=https
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -I \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        "$@" "${scheme}://${reg}/v2/${repo}/manifests/${tag}" || true)"
    [[ "$code" == "200" ]]
}

push_copy() {  # push_copy REGISTRY REF [curl auth args...]
    local reg="$1" ref="$2"; shift 2
    local repo="${ref%%:*}" tag="${ref##*:}"
    if registry_has "$reg" "$repo" "$tag" "$@"; then return 0; fi
    docker tag "$ref" "${reg}/${ref}"
    if ! docker push --quiet "${reg}/${ref}" >"${WORK}/push.log" 2>&1 &&
        ! docker push "${reg}/${ref}" >"${WORK}/push.log" 2>&1; then
        cat "${WORK}/push.log" >&2
        docker rmi "${reg}/${ref}" >/dev/null 2>&1 || true
        die "push of ${reg}/${ref} failed"
    fi
    # keep the engine clean: only the wctest/... names stay local
    docker rmi "${reg}/${ref}" >/dev/null
    log "pushed ${reg}/${ref}"
}

build_busybox 1.0
build_busybox 2.0
IMAGES=(wctest/busybox:1.0 wctest/busybox:2.0)
if [[ "$LARGE" == "1" ]]; then
    build_large
    IMAGES+=(wctest/large:1.0)
fi

if [[ "$PUSH" == "1" ]]; then
    for ref in "${IMAGES[@]}"; do
        push_copy "$WC_REGISTRY_ANON" "$ref"
    done
    # Authenticated registry: a throwaway client config, password on stdin only.
    # curl reads the credentials from a mode-600 config file, never from its command line.
    (umask 077; printf 'user = "%s:%s"\n' "$WC_REGISTRY_USER" "$(cat "$WC_REGISTRY_PASSWORD_FILE")" >"${WORK}/curl-auth")
    AUTH_CURL=(--cacert "$WC_REGISTRY_CA" --config "${WORK}/curl-auth")
    need_login=0
    for ref in "${IMAGES[@]}"; do
        registry_has "$WC_REGISTRY_AUTH" "${ref%%:*}" "${ref##*:}" "${AUTH_CURL[@]}" || need_login=1
    done
    if [[ "$need_login" == "1" ]]; then
        export DOCKER_CONFIG="${WORK}/docker-config"
        mkdir -p "$DOCKER_CONFIG"
        chmod 700 "$DOCKER_CONFIG"
        docker login --username "$WC_REGISTRY_USER" --password-stdin "$WC_REGISTRY_AUTH" \
            <"$WC_REGISTRY_PASSWORD_FILE" >/dev/null 2>"${WORK}/login.log" ||
            { cat "${WORK}/login.log" >&2; die "docker login to ${WC_REGISTRY_AUTH} failed"; }
        for ref in "${IMAGES[@]}"; do
            push_copy "$WC_REGISTRY_AUTH" "$ref" "${AUTH_CURL[@]}"
        done
        docker logout "$WC_REGISTRY_AUTH" >/dev/null 2>&1 || true
        unset DOCKER_CONFIG
    fi
    rm -f "${WORK}/curl-auth"
fi
log "ok: ${IMAGES[*]}$([[ "$PUSH" == 1 ]] && echo " (also in ${WC_REGISTRY_ANON} and ${WC_REGISTRY_AUTH})")"
