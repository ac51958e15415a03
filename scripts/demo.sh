#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The whole workflow of wincontainers.images on this machine, from nothing (what `make demo` runs):
#
#   1. scripts/bootstrap.sh: system packages (Docker engine, registry, ...) and the .venv (ansible-core, ...)
#   2. scripts/engine.sh start: a private Docker engine and two local registries (loopback only)
#   3. builds the collection tarball and installs it into $WC_DEMO_DIR/collection, which stays for you to use
#   4. builds the demo images offline (docker import of a busybox root filesystem):
#        a stand-in "base OS image"  wcdemo/windows/servercore:ltsc2022  -> saved to an offline archive (S7)
#        two application images      pushed to the anonymous registry and to the TLS + password registry
#      and removes them from the engine, so that the playbook has real work to do
#   5. runs playbooks/site.yml against localhost (local connection): the base image from the archive,
#      the application images from the registries (login, one pull task, a tag, a push)
#   6. runs site.yml a SECOND time and checks that the recap says changed=0 (fails otherwise)
#   7. runs playbooks/image_report.yml and prints where the HTML and CSV report are
#
# Environment: WC_DEMO_DIR (default: <repo>/artifacts/demo) holds everything the demo writes (archive,
# inventory, logs, report). The demo's images (wcdemo/...) stay in the engine afterwards, to look at; the
# next run removes and recreates them. WC_SKIP_APT=1 is passed on to bootstrap.sh.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEMO_DIR="${WC_DEMO_DIR:-${REPO_ROOT}/artifacts/demo}"
PY="${REPO_ROOT}/.venv/bin/python"
BASE_REPO="wcdemo/windows/servercore"
BASE_TAG="ltsc2022"
APP_ANON="wcdemo/web"
APP_AUTH="wcdemo/worker"
APP_TAG="1.0"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
log() { printf 'demo: %s\n' "$*" >&2; }
die() { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }

# --- 1-2. machine, engine, registries -----------------------------------------------------------

step "1/7 Bootstrap: system packages and Python environment (scripts/bootstrap.sh)"
bash "${REPO_ROOT}/scripts/bootstrap.sh"

step "2/7 Local Docker engine and registries (scripts/engine.sh start)"
bash "${REPO_ROOT}/scripts/engine.sh" start
# shellcheck disable=SC1091
source "${WC_ENGINE_DIR:-/tmp/wincontainers-engine}/env"
export DOCKER_HOST

mkdir -p "$DEMO_DIR"
DEMO_DIR="$(cd "$DEMO_DIR" && pwd)"
rm -rf "${DEMO_DIR:?}/work"
mkdir -p "${DEMO_DIR}/work" "${DEMO_DIR}/archives" "${DEMO_DIR}/logs"
# The demo's own Docker client configuration (logins), never ~/.docker.
export DOCKER_CONFIG="${DEMO_DIR}/docker-config"
rm -rf "$DOCKER_CONFIG"
mkdir -p "$DOCKER_CONFIG"
chmod 700 "$DOCKER_CONFIG"

# --- 3. collection --------------------------------------------------------------------------------

step "3/7 Build the collection tarball and install it into ${DEMO_DIR}/collection (kept after the demo)"
COLLECTIONS="${DEMO_DIR}/collection"
trap 'rm -f "${DEMO_DIR}/site-vars.json"' EXIT
eval "$(bash "${REPO_ROOT}/scripts/build-collection.sh" "$COLLECTIONS")"
export ANSIBLE_COLLECTIONS_PATH="$WC_COLLECTIONS_PATH"
log "collection installed in ${ANSIBLE_COLLECTIONS_PATH}"

# --- 4. demo images ---------------------------------------------------------------------------------

step "4/7 Build the demo images offline, save the base image to an archive, push the app images"
BUSYBOX="$(command -v busybox || echo /bin/busybox)"
[[ -x "$BUSYBOX" ]] || die "busybox not found (busybox-static; scripts/bootstrap.sh installs it)"

make_image() {  # make_image REF TITLE EXTRA_FILE_TEXT
    local ref="$1" title="$2" text="$3" root="${DEMO_DIR}/work/rootfs-${1//[\/:]/_}" applet
    mkdir -p "$root"/{bin,etc,tmp,app}
    cp "$BUSYBOX" "$root/bin/busybox"
    for applet in sh ls cat echo sleep; do ln -sf busybox "$root/bin/$applet"; done
    printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
    printf '%s\n' "$text" >"$root/app/README"
    tar --sort=name --mtime='@0' --owner=0 --group=0 --numeric-owner -C "$root" -cf "${root}.tar" .
    docker import --change 'CMD ["/bin/sh"]' --change "LABEL org.opencontainers.image.title=\"${title}\"" \
        --message "wincontainers.images demo image ${ref}" "${root}.tar" "$ref" >/dev/null
    rm -rf "$root" "${root}.tar"
    log "built ${ref} ($(docker image inspect --format '{{.Id}}' "$ref" | cut -c1-19))"
}

remove_image() {  # remove_image REF: only the demo's own names
    docker image rm "$1" >/dev/null 2>&1 || true
}

# Start from a clean state: none of the demo's images in the engine.
for ref in "${BASE_REPO}:${BASE_TAG}" "${BASE_REPO}:latest" \
    "${WC_REGISTRY_ANON}/${APP_ANON}:${APP_TAG}" "${WC_REGISTRY_ANON}/${APP_ANON}:stable" \
    "${WC_REGISTRY_AUTH}/${APP_AUTH}:${APP_TAG}" "${APP_ANON}:current" "${APP_ANON}:${APP_TAG}" "${APP_AUTH}:${APP_TAG}"; do
    remove_image "$ref"
done

make_image "${BASE_REPO}:${BASE_TAG}" "demo base OS image" "stand-in for mcr.microsoft.com/windows/servercore:ltsc2022"
make_image "${APP_ANON}:${APP_TAG}" "demo web application" "web application ${APP_TAG}"
make_image "${APP_AUTH}:${APP_TAG}" "demo worker application" "worker application ${APP_TAG}"

ARCHIVE="${DEMO_DIR}/archives/servercore-${BASE_TAG}.tar"
rm -f "$ARCHIVE"
docker save -o "$ARCHIVE" "${BASE_REPO}:${BASE_TAG}"
log "offline archive: ${ARCHIVE} (sha256 $(sha256sum "$ARCHIVE" | cut -c1-16)...)"
remove_image "${BASE_REPO}:${BASE_TAG}"

# The anonymous registry: plain push. The TLS + password registry: login with the password on stdin.
docker tag "${APP_ANON}:${APP_TAG}" "${WC_REGISTRY_ANON}/${APP_ANON}:${APP_TAG}"
docker push "${WC_REGISTRY_ANON}/${APP_ANON}:${APP_TAG}" >"${DEMO_DIR}/logs/push-web.log" 2>&1 ||
    { cat "${DEMO_DIR}/logs/push-web.log" >&2; die "push to ${WC_REGISTRY_ANON} failed"; }
PUSH_CONFIG="${DEMO_DIR}/work/push-config"
mkdir -p "$PUSH_CONFIG"
chmod 700 "$PUSH_CONFIG"
DOCKER_CONFIG="$PUSH_CONFIG" docker login --username "$WC_REGISTRY_USER" --password-stdin "$WC_REGISTRY_AUTH" \
    <"$WC_REGISTRY_PASSWORD_FILE" >/dev/null 2>"${DEMO_DIR}/logs/login.log" ||
    { cat "${DEMO_DIR}/logs/login.log" >&2; die "login to ${WC_REGISTRY_AUTH} failed"; }
docker tag "${APP_AUTH}:${APP_TAG}" "${WC_REGISTRY_AUTH}/${APP_AUTH}:${APP_TAG}"
DOCKER_CONFIG="$PUSH_CONFIG" docker push "${WC_REGISTRY_AUTH}/${APP_AUTH}:${APP_TAG}" >"${DEMO_DIR}/logs/push-worker.log" 2>&1 ||
    { cat "${DEMO_DIR}/logs/push-worker.log" >&2; die "push to ${WC_REGISTRY_AUTH} failed"; }
rm -rf "$PUSH_CONFIG"
for ref in "${WC_REGISTRY_ANON}/${APP_ANON}:${APP_TAG}" "${WC_REGISTRY_AUTH}/${APP_AUTH}:${APP_TAG}" \
    "${APP_ANON}:${APP_TAG}" "${APP_AUTH}:${APP_TAG}"; do
    remove_image "$ref"
done
log "app images in the registries: ${WC_REGISTRY_ANON}/${APP_ANON}:${APP_TAG}, ${WC_REGISTRY_AUTH}/${APP_AUTH}:${APP_TAG}"

# --- inventory, configuration, variables -------------------------------------------------------------

cat >"${DEMO_DIR}/inventory.yml" <<EOF
# wincontainers.images demo: this machine, reached with the local connection.
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: ${PY}
EOF
cat >"${DEMO_DIR}/ansible.cfg" <<'EOF'
[defaults]
retry_files_enabled = False
host_key_checking = False
EOF
export ANSIBLE_CONFIG="${DEMO_DIR}/ansible.cfg"
export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-0}"

# Variables of site.yml. The registry password travels in a mode-600 file, never on a command line.
(
    umask 077
    "$PY" - "$ARCHIVE" "${DEMO_DIR}/site-vars.json" <<EOF
import json, os, sys
archive, out = sys.argv[1], sys.argv[2]
anon, auth = os.environ["WC_REGISTRY_ANON"], os.environ["WC_REGISTRY_AUTH"]
with open(os.environ["WC_REGISTRY_PASSWORD_FILE"], encoding="utf-8") as handle:
    password = handle.read().strip()
variables = {
    "site_hosts": "localhost",
    "base_images_list": [
        {"name": "${BASE_REPO}", "version": "${BASE_TAG}", "source": "archive", "archive_path": archive},
    ],
    "app_images_registries": [
        {"registry_url": auth, "username": os.environ["WC_REGISTRY_USER"], "password": password},
    ],
    "app_images_list": [f"{anon}/${APP_ANON}:${APP_TAG}", f"{auth}/${APP_AUTH}:${APP_TAG}"],
    "app_images_tags": [
        {"name": f"{anon}/${APP_ANON}:${APP_TAG}", "repository": ["${APP_ANON}:current", f"{anon}/${APP_ANON}:stable"]},
    ],
    "app_images_push": [{"name": f"{anon}/${APP_ANON}:stable"}],
}
with open(out, "w", encoding="utf-8") as handle:
    json.dump(variables, handle, indent=2)
EOF
)

PLAYBOOK=("${REPO_ROOT}/.venv/bin/ansible-playbook" -i "${DEMO_DIR}/inventory.yml")

recap_changed() {  # recap_changed LOG: the changed= count of localhost in the play recap
    sed -n 's/\x1b\[[0-9;]*m//g; s/^localhost[[:space:]]*:.*changed=\([0-9][0-9]*\).*/\1/p' "$1" | tail -n1
}
recap_failed() {
    sed -n 's/\x1b\[[0-9;]*m//g; s/^localhost[[:space:]]*:.*failed=\([0-9][0-9]*\).*/\1/p' "$1" | tail -n1
}

# --- 5-6. site.yml twice ------------------------------------------------------------------------------

step "5/7 site.yml, first run: base image from the offline archive, app images from the local registries"
"${PLAYBOOK[@]}" wincontainers.images.site -e "@${DEMO_DIR}/site-vars.json" 2>&1 | tee "${DEMO_DIR}/logs/site-run1.log" ||
    die "site.yml failed on the first run (log: ${DEMO_DIR}/logs/site-run1.log)"
first_changed="$(recap_changed "${DEMO_DIR}/logs/site-run1.log")"

step "6/7 site.yml, second run: nothing may change (changed=0)"
"${PLAYBOOK[@]}" wincontainers.images.site -e "@${DEMO_DIR}/site-vars.json" 2>&1 | tee "${DEMO_DIR}/logs/site-run2.log" ||
    die "site.yml failed on the second run (log: ${DEMO_DIR}/logs/site-run2.log)"
second_changed="$(recap_changed "${DEMO_DIR}/logs/site-run2.log")"
second_failed="$(recap_failed "${DEMO_DIR}/logs/site-run2.log")"
[[ -n "$second_changed" ]] || die "no play recap for localhost in ${DEMO_DIR}/logs/site-run2.log"
if [[ "$second_changed" != "0" || "$second_failed" != "0" ]]; then
    die "the second run is not idempotent: changed=${second_changed} failed=${second_failed} (log: ${DEMO_DIR}/logs/site-run2.log)"
fi
log "first run: changed=${first_changed}; second run: changed=0 (idempotent)"

# --- 7. report ----------------------------------------------------------------------------------------

step "7/7 Fleet report (image_report.yml)"
"${PLAYBOOK[@]}" wincontainers.images.image_report -e "report_dir=${DEMO_DIR}/report" -e "@${DEMO_DIR}/site-vars.json" 2>&1 |
    tee "${DEMO_DIR}/logs/report.log" || die "image_report.yml failed (log: ${DEMO_DIR}/logs/report.log)"
[[ -s "${DEMO_DIR}/report/fleet-report.html" ]] || die "the report was not written"
rm -f "${DEMO_DIR}/site-vars.json"

cat <<EOF

Demo finished.
  site.yml first run:  changed=${first_changed}
  site.yml second run: changed=0 (idempotent)
  Fleet report (HTML): ${DEMO_DIR}/report/fleet-report.html
  Fleet report (CSV):  ${DEMO_DIR}/report/fleet-report.csv
  Logs:                ${DEMO_DIR}/logs/

Try the modules yourself (Ansible lives in .venv; the engine keeps running; "make engine-stop" stops it):
  source .venv/bin/activate                       # ansible, ansible-playbook, ansible-galaxy
  source ${WC_ENGINE_DIR:-/tmp/wincontainers-engine}/env   # DOCKER_HOST of the demo's engine, the registries
  export ANSIBLE_COLLECTIONS_PATH=${COLLECTIONS}/collections   # the collection the demo installed
  ansible localhost -c local -m wincontainers.images.docker_image_info -a 'name=${BASE_REPO}:${BASE_TAG}'
EOF
