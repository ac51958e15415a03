#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private Docker engine and two local registries for the integration tests of
# wincontainers.images. Everything listens on loopback only; all state lives under
# ${WC_ENGINE_DIR:-/tmp/wincontainers-engine}.
#
#   scripts/engine.sh start    start (or reuse) containerd + dockerd, registry A and registry B
#   scripts/engine.sh stop     stop what start started and wait until no process is left
#   scripts/engine.sh status   report each component (exit 0 when all are up, 3 otherwise)
#   scripts/engine.sh env      print the shell export lines (also kept in $WC_ENGINE_DIR/env)
#   scripts/engine.sh purge    stop (and the test sshd of scripts/sshd.sh, whose state is in
#                              $WC_ENGINE_DIR/sshd), then delete the state directory and certs.d
#                              entries (and the /etc/hosts entry when no other engine's strict-TLS
#                              registry runs)
#
# Registry A: anonymous, plain HTTP, 127.0.0.1:${WC_REGISTRY_ANON_PORT:-5551}
#             (dockerd treats loopback registries as insecure by default).
# Registry B: TLS (own CA, trusted through /etc/docker/certs.d/<host:port>/ca.crt) and
#             htpasswd basic auth, 127.0.0.1:${WC_REGISTRY_AUTH_PORT:-5552}; user "wctest",
#             random password generated at start into $WC_ENGINE_DIR/registry-b.password.
# Registry B, strict TLS twin: the same registry storage and credentials served on
#             [::1]:${WC_REGISTRY_AUTH_PORT:-5552} under the name wc-registry-b.test (an /etc/hosts
#             entry), exported as WC_REGISTRY_TLS. Needed because dockerd treats every
#             127.0.0.0/8 registry as insecure and never verifies its certificate; for this
#             name it does (certs.d). Disabled with WC_REGISTRY_TLS_DISABLE=1 or without ::1.
#
# When DOCKER_HOST is set and that engine answers, it is reused and never started or
# stopped here (the registries are still managed here).
#
# Needs root (dockerd, /etc/docker/certs.d). Packages: docker.io, docker-registry, openssl,
# curl; bcrypt from the repository's .venv (scripts/bootstrap.sh) or htpasswd.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${WC_ENGINE_DIR:-/tmp/wincontainers-engine}"
ANON_PORT="${WC_REGISTRY_ANON_PORT:-5551}"
AUTH_PORT="${WC_REGISTRY_AUTH_PORT:-5552}"
ANON_ADDR="127.0.0.1:${ANON_PORT}"
AUTH_ADDR="127.0.0.1:${AUTH_PORT}"
REG_USER="wctest"
CERTS_D="${WC_DOCKER_CERTS_D:-/etc/docker/certs.d}"
START_TIMEOUT="${WC_ENGINE_START_TIMEOUT:-90}"

OWN_SOCK="${DIR}/docker.sock"
OWN_DOCKER_HOST="unix://${OWN_SOCK}"
CTRD_DIR="${DIR}/containerd"
CTRD_SOCK="${CTRD_DIR}/containerd.sock"
TLS_DIR="${DIR}/tls"
PASSWORD_FILE="${DIR}/registry-b.password"
HTPASSWD_FILE="${DIR}/registry-b.htpasswd"
EXTERNAL_MARK="${DIR}/engine.external"
TLS_NAME="${WC_REGISTRY_TLS_NAME:-wc-registry-b.test}"
TLS_ADDR="${TLS_NAME}:${AUTH_PORT}"
HOSTS_TAG="# wincontainers.images scripts/engine.sh"
STRICT_OK=0

log() { printf 'engine: %s\n' "$*" >&2; }
die() { printf 'engine: ERROR: %s\n' "$*" >&2; exit 1; }

need() {
    local cmd
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' not found; run scripts/bootstrap.sh (as root) first"
    done
}

# --- process helpers (by pid file only) -------------------------------------------------

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

read_pid() {
    if [[ -s "$1" ]]; then tr -dc '0-9' <"$1" 2>/dev/null || true; fi
}

# stop_pid NAME PIDFILE TIMEOUT: SIGTERM, wait, SIGKILL if it does not exit.
stop_pid() {
    local name="$1" pidfile="$2" timeout="$3" pid i
    pid="$(read_pid "$pidfile")"
    if ! pid_alive "$pid"; then
        rm -f "$pidfile"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
        pid_alive "$pid" || break
        sleep 0.1
    done
    if pid_alive "$pid"; then
        log "$name (pid $pid) did not exit after ${timeout}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do pid_alive "$pid" || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
}

# Engine processes whose command line names this engine's state directory (containerd
# shims started for our containers carry "-address $DIR/containerd/containerd.sock").
# Only engine binaries are considered, so e.g. a "tail -f $DIR/dockerd.log" is left alone.
own_leftover_pids() {
    local p cmd exe
    for p in /proc/[0-9]*; do
        p="${p#/proc/}"
        cmd="$( { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null || true)"
        [[ "$cmd" == *"${DIR}/"* ]] || continue
        exe="${cmd%% *}"
        case "${exe##*/}" in
            dockerd | containerd | containerd-shim* | docker-registry | runc | docker-proxy | docker-init)
                echo "$p" ;;
        esac
    done
}

tail_log() {
    local f="$1"
    if [[ -s "$f" ]]; then
        printf -- '--- last lines of %s ---\n' "$f" >&2
        tail -n 25 "$f" >&2
        printf -- '---\n' >&2
    fi
}

# --- docker engine -----------------------------------------------------------------------

docker_answers() {  # docker_answers DOCKER_HOST
    DOCKER_HOST="$1" timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

engine_is_external() { [[ -e "$EXTERNAL_MARK" ]]; }

current_docker_host() {
    if engine_is_external; then cat "$EXTERNAL_MARK"; else echo "$OWN_DOCKER_HOST"; fi
}

start_containerd() {
    local pid i
    pid="$(read_pid "${DIR}/containerd.pid")"
    if pid_alive "$pid" && [[ -S "$CTRD_SOCK" ]]; then
        return 0
    fi
    mkdir -p "$CTRD_DIR/root" "$CTRD_DIR/state"
    # Own config so /etc/containerd/config.toml and a system containerd are never touched.
    cat >"${CTRD_DIR}/config.toml" <<EOF
version = 2
root = "${CTRD_DIR}/root"
state = "${CTRD_DIR}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "${CTRD_SOCK}"
[ttrpc]
  address = "${CTRD_SOCK}.ttrpc"
[debug]
  address = "${CTRD_DIR}/debug.sock"
  level = "warn"
[metrics]
  address = ""
EOF
    rm -f "$CTRD_SOCK" "${CTRD_SOCK}.ttrpc"
    setsid containerd --config "${CTRD_DIR}/config.toml" \
        </dev/null >>"${DIR}/containerd.log" 2>&1 &
    echo $! >"${DIR}/containerd.pid"
    for ((i = 0; i < START_TIMEOUT * 10; i++)); do
        [[ -S "$CTRD_SOCK" ]] && return 0
        pid_alive "$(read_pid "${DIR}/containerd.pid")" || break
        sleep 0.1
    done
    tail_log "${DIR}/containerd.log"
    die "containerd did not come up (socket ${CTRD_SOCK}); log: ${DIR}/containerd.log"
}

start_dockerd() {
    local pid i
    if [[ -n "${DOCKER_HOST:-}" && "${DOCKER_HOST}" != "$OWN_DOCKER_HOST" ]]; then
        if docker_answers "$DOCKER_HOST"; then
            log "reusing the engine at DOCKER_HOST=${DOCKER_HOST} (it will not be stopped here)"
            echo "$DOCKER_HOST" >"$EXTERNAL_MARK"
            return 0
        fi
        log "DOCKER_HOST=${DOCKER_HOST} does not answer; starting a private engine instead"
    fi
    rm -f "$EXTERNAL_MARK"

    pid="$(read_pid "${DIR}/dockerd.pid")"
    if pid_alive "$pid" && docker_answers "$OWN_DOCKER_HOST"; then
        log "dockerd already running (pid $pid)"
        return 0
    fi
    if pid_alive "$pid"; then
        die "dockerd (pid $pid) runs but does not answer on ${OWN_SOCK}; run 'scripts/engine.sh stop' first"
    fi

    start_containerd
    mkdir -p "${DIR}/data" "${DIR}/exec"
    # never read /etc/docker/daemon.json; stop containers quickly on shutdown
    echo '{"shutdown-timeout": 5}' >"${DIR}/daemon.json"
    rm -f "$OWN_SOCK"
    setsid dockerd \
        --config-file "${DIR}/daemon.json" \
        --storage-driver=vfs \
        --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
        --bridge=none \
        --userland-proxy=false \
        --data-root "${DIR}/data" \
        --exec-root "${DIR}/exec" \
        --pidfile "${DIR}/dockerd.pid" \
        --containerd "$CTRD_SOCK" \
        -H "$OWN_DOCKER_HOST" \
        </dev/null >>"${DIR}/dockerd.log" 2>&1 &
    local launcher=$!
    for ((i = 0; i < START_TIMEOUT * 10; i++)); do
        if [[ -S "$OWN_SOCK" ]] && docker_answers "$OWN_DOCKER_HOST"; then
            # dockerd writes its own pid file; keep ours consistent if it has not yet.
            [[ -s "${DIR}/dockerd.pid" ]] || echo "$launcher" >"${DIR}/dockerd.pid"
            log "dockerd up (pid $(read_pid "${DIR}/dockerd.pid"), ${OWN_DOCKER_HOST})"
            return 0
        fi
        if ! pid_alive "$launcher"; then
            tail_log "${DIR}/dockerd.log"
            die "dockerd exited during start-up; log: ${DIR}/dockerd.log"
        fi
        sleep 0.2
    done
    tail_log "${DIR}/dockerd.log"
    die "dockerd did not answer 'docker version' within ${START_TIMEOUT}s; log: ${DIR}/dockerd.log"
}

# --- TLS material, name for strict TLS, htpasswd ---------------------------------------------

# dockerd always treats 127.0.0.0/8 registries as insecure: for 127.0.0.1:5552 it skips
# certificate verification (and even retries over plain HTTP), whatever certs.d holds.
# Registry B is therefore also served on [::1]:PORT under the name $TLS_NAME (an /etc/hosts
# entry pointing at ::1), which dockerd does verify against certs.d/<name>:<port>/ca.crt.
hosts_entry_ok() {  # /etc/hosts maps TLS_NAME to ::1 and to nothing else
    awk -v n="$TLS_NAME" '
        { sub(/#.*/, ""); for (i = 2; i <= NF; i++) if ($i == n) { if ($1 == "::1") good++; else bad++ } }
        END { exit !(good > 0 && bad == 0) }' /etc/hosts 2>/dev/null
}

ensure_tls_name() {
    STRICT_OK=0
    if [[ "${WC_REGISTRY_TLS_DISABLE:-0}" == "1" ]]; then return 0; fi
    if ! grep -q '^ *00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then
        log "warning: no IPv6 loopback (::1); ${TLS_ADDR} (strict TLS twin of registry B) disabled"
        return 0
    fi
    if ! hosts_entry_ok; then
        if [[ -w /etc/hosts ]] && ! grep -qw "$TLS_NAME" /etc/hosts; then
            printf '::1 %s %s\n' "$TLS_NAME" "$HOSTS_TAG" >>/etc/hosts
        fi
    fi
    if hosts_entry_ok; then
        STRICT_OK=1
    else
        log "warning: ${TLS_NAME} does not resolve to ::1 only (/etc/hosts); strict TLS twin of registry B disabled"
    fi
}

remove_hosts_entry() {
    local tmp
    if [[ -w /etc/hosts ]] && grep -qF "$HOSTS_TAG" /etc/hosts; then
        tmp="$(mktemp)"
        grep -vF "$HOSTS_TAG" /etc/hosts >"$tmp" || true
        cat "$tmp" >/etc/hosts   # rewrite in place: /etc/hosts may be a bind mount
        rm -f "$tmp"
    fi
}

ensure_tls() {
    local san="IP:127.0.0.1,DNS:localhost,IP:::1,DNS:${TLS_NAME}"
    mkdir -p "$TLS_DIR"
    chmod 700 "$TLS_DIR"
    if [[ -s "$TLS_DIR/ca.crt" && -s "$TLS_DIR/server.crt" && -s "$TLS_DIR/server.key" ]] &&
        openssl x509 -in "$TLS_DIR/ca.crt" -noout -checkend 86400 >/dev/null 2>&1 &&
        openssl x509 -in "$TLS_DIR/server.crt" -noout -checkend 86400 >/dev/null 2>&1 &&
        openssl x509 -in "$TLS_DIR/server.crt" -noout -ext subjectAltName 2>/dev/null | grep -qF "DNS:${TLS_NAME}"; then
        return 0
    fi
    log "generating a test CA and a server certificate under ${TLS_DIR}"
    (
        cd "$TLS_DIR"
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 \
            -keyout ca.key -out ca.crt -subj "/CN=wincontainers.images test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1
        openssl req -newkey rsa:2048 -nodes -sha256 \
            -keyout server.key -out server.csr -subj "/CN=127.0.0.1" >/dev/null 2>&1
        cat >server.ext <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=${san}
EOF
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -days 30 -sha256 -extfile server.ext -out server.crt >/dev/null 2>&1
        rm -f server.csr ca.srl server.ext
        chmod 644 ca.crt server.crt
    ) || die "openssl failed to generate the test certificates"
}

certs_d_dirs() {
    echo "${CERTS_D}/${AUTH_ADDR}"
    echo "${CERTS_D}/localhost:${AUTH_PORT}"
    echo "${CERTS_D}/${TLS_ADDR}"
}

install_ca_trust() {
    local d
    while read -r d; do
        mkdir -p "$d" 2>/dev/null || die "cannot create $d (run as root, or set WC_DOCKER_CERTS_D)"
        if ! cmp -s "$TLS_DIR/ca.crt" "$d/ca.crt"; then
            cp "$TLS_DIR/ca.crt" "$d/ca.crt"
            chmod 644 "$d/ca.crt"
        fi
    done < <(certs_d_dirs)
}

bcrypt_hash() {  # password on stdin, "user:hash" on stdout
    local py="${REPO_ROOT}/.venv/bin/python"
    if [[ -x "$py" ]] && "$py" -c 'import bcrypt' >/dev/null 2>&1; then
        "$py" -c '
import sys, bcrypt
user = sys.argv[1]
pw = sys.stdin.buffer.read().rstrip(b"\n")
print(user + ":" + bcrypt.hashpw(pw, bcrypt.gensalt(rounds=10)).decode())
' "$REG_USER"
    elif command -v htpasswd >/dev/null 2>&1; then
        htpasswd -niB "$REG_USER"
    else
        die "no bcrypt implementation: run scripts/bootstrap.sh (creates .venv with bcrypt) or install apache2-utils"
    fi
}

new_credentials() {
    (
        umask 077
        pw="$(openssl rand -hex 24)"
        printf '%s' "$pw" >"${PASSWORD_FILE}.new"
        printf '%s\n' "$pw" | bcrypt_hash >"${HTPASSWD_FILE}.new"
    )
    [[ -s "${HTPASSWD_FILE}.new" ]] || die "could not write the htpasswd file"
    mv -f "${PASSWORD_FILE}.new" "$PASSWORD_FILE"
    mv -f "${HTPASSWD_FILE}.new" "$HTPASSWD_FILE"
    chmod 600 "$PASSWORD_FILE" "$HTPASSWD_FILE"
}

# --- registries ---------------------------------------------------------------------------

http_code() {  # http_code URL [curl args...]
    local url="$1"; shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" 2>/dev/null || true
}

registry_a_ready() { [[ "$(http_code "http://${ANON_ADDR}/v2/")" == "200" ]]; }
registry_b_ready() { [[ "$(http_code "https://${AUTH_ADDR}/v2/" --cacert "$TLS_DIR/ca.crt")" == "401" ]]; }
registry_b_tls_ready() { [[ "$(http_code "https://${TLS_ADDR}/v2/" --cacert "$TLS_DIR/ca.crt")" == "401" ]]; }

port_busy() {  # port_busy HOST PORT: something accepts connections there
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# write_registry_config NAME LISTEN STORAGE [auth]
write_registry_config() {
    local name="$1" listen="$2" storage="$3" auth="${4:-}"
    mkdir -p "${DIR}/${storage}"
    {
        cat <<EOF
version: 0.1
log:
  level: warn
  formatter: text
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${DIR}/${storage}
  delete:
    enabled: true
EOF
        # No in-memory blob cache for B: two processes serve the same storage.
        [[ -z "$auth" ]] && printf '  cache:\n    blobdescriptor: inmemory\n'
        cat <<EOF
http:
  addr: "${listen}"
  secret: $(openssl rand -hex 16)
EOF
        if [[ -n "$auth" ]]; then
            cat <<EOF
  tls:
    certificate: ${TLS_DIR}/server.crt
    key: ${TLS_DIR}/server.key
auth:
  htpasswd:
    realm: wincontainers-test
    path: ${HTPASSWD_FILE}
EOF
        fi
    } >"${DIR}/${name}.yml"
    chmod 600 "${DIR}/${name}.yml"
}

registry_running() {  # registry_running NAME READY_FN
    local pid
    pid="$(read_pid "${DIR}/$1.pid")"
    pid_alive "$pid" && "$2"
}

# launch_registry NAME LISTEN_HOST PORT STORAGE READY_FN [auth]
launch_registry() {
    local name="$1" host="$2" port="$3" storage="$4" ready="$5" auth="${6:-}"
    local pidfile="${DIR}/${name}.pid" listen i
    stop_pid "$name" "$pidfile" 10
    if port_busy "$host" "$port"; then
        die "${host}:${port} is already in use by another process; stop it or choose another port (WC_REGISTRY_ANON_PORT / WC_REGISTRY_AUTH_PORT)"
    fi
    if [[ "$host" == *:* ]]; then listen="[${host}]:${port}"; else listen="${host}:${port}"; fi
    write_registry_config "$name" "$listen" "$storage" "$auth"
    setsid docker-registry serve "${DIR}/${name}.yml" </dev/null >>"${DIR}/${name}.log" 2>&1 &
    echo $! >"$pidfile"
    for ((i = 0; i < START_TIMEOUT * 10; i++)); do
        if "$ready"; then
            log "${name} up (pid $(read_pid "$pidfile"), ${listen}${auth:+, TLS + basic auth})"
            return 0
        fi
        pid_alive "$(read_pid "$pidfile")" || break
        sleep 0.1
    done
    tail_log "${DIR}/${name}.log"
    die "${name} did not come up on ${listen}; log: ${DIR}/${name}.log"
}

start_registries() {
    if registry_running registry-a registry_a_ready; then
        log "registry-a already running (pid $(read_pid "${DIR}/registry-a.pid"), ${ANON_ADDR})"
    else
        launch_registry registry-a 127.0.0.1 "$ANON_PORT" registry-a-storage registry_a_ready
    fi
    # B and its strict-TLS twin share storage and the htpasswd file (read once at start),
    # so they are (re)started together with fresh credentials.
    if registry_running registry-b registry_b_ready && [[ -s "$PASSWORD_FILE" ]] &&
        { [[ "$STRICT_OK" == 0 ]] || registry_running registry-b-tls registry_b_tls_ready; }; then
        log "registry-b already running (pid $(read_pid "${DIR}/registry-b.pid"), ${AUTH_ADDR})"
        return 0
    fi
    stop_pid registry-b-tls "${DIR}/registry-b-tls.pid" 10
    stop_pid registry-b "${DIR}/registry-b.pid" 10
    new_credentials
    launch_registry registry-b 127.0.0.1 "$AUTH_PORT" registry-b-storage registry_b_ready auth
    if [[ "$STRICT_OK" == 1 ]]; then
        launch_registry registry-b-tls ::1 "$AUTH_PORT" registry-b-storage registry_b_tls_ready auth
    fi
}

# --- env ------------------------------------------------------------------------------------

env_lines() {
    printf 'export WC_ENGINE_DIR=%q\n' "$DIR"
    printf 'export DOCKER_HOST=%q\n' "$(current_docker_host)"
    printf 'export WC_REGISTRY_ANON=%q\n' "$ANON_ADDR"
    printf 'export WC_REGISTRY_AUTH=%q\n' "$AUTH_ADDR"
    if [[ "${STRICT_OK:-0}" == 1 ]]; then
        printf 'export WC_REGISTRY_TLS=%q\n' "$TLS_ADDR"
    else
        printf 'unset WC_REGISTRY_TLS\n'
    fi
    printf 'export WC_REGISTRY_USER=%q\n' "$REG_USER"
    printf 'export WC_REGISTRY_PASSWORD_FILE=%q\n' "$PASSWORD_FILE"
    printf 'export WC_REGISTRY_CA=%q\n' "$TLS_DIR/ca.crt"
}

write_env() {
    env_lines >"${DIR}/env.new"
    mv -f "${DIR}/env.new" "${DIR}/env"
}

# --- commands ---------------------------------------------------------------------------

cmd_start() {
    [[ "$(id -u)" == "0" ]] || die "must run as root (dockerd, /etc/docker/certs.d)"
    need docker dockerd containerd docker-registry openssl curl setsid getent
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    [[ -O "$DIR" ]] || die "$DIR exists and is not owned by $(id -un)"
    start_dockerd
    ensure_tls_name
    ensure_tls
    install_ca_trust
    start_registries
    write_env
    log "ready; environment: ${DIR}/env"
}

cmd_stop() {
    local p leftovers i
    [[ -d "$DIR" ]] || { log "nothing to stop (${DIR} does not exist)"; return 0; }
    stop_pid registry-b-tls "${DIR}/registry-b-tls.pid" 10
    stop_pid registry-b "${DIR}/registry-b.pid" 10
    stop_pid registry-a "${DIR}/registry-a.pid" 10
    if engine_is_external; then
        log "engine at $(cat "$EXTERNAL_MARK") was not started here; leaving it running"
        rm -f "$EXTERNAL_MARK"
    else
        # dockerd stops its containers on SIGTERM (default shutdown timeout 15s).
        stop_pid dockerd "${DIR}/dockerd.pid" 45
        stop_pid containerd "${DIR}/containerd.pid" 15
    fi
    # Sweep anything still naming our state directory (orphaned shims), by pid.
    leftovers="$(own_leftover_pids)"
    if [[ -n "$leftovers" ]]; then
        log "terminating leftover processes: ${leftovers//$'\n'/ }"
        for p in $leftovers; do kill -TERM "$p" 2>/dev/null || true; done
        for ((i = 0; i < 50; i++)); do
            leftovers="$(own_leftover_pids)"
            [[ -z "$leftovers" ]] && break
            sleep 0.1
        done
        for p in $leftovers; do kill -KILL "$p" 2>/dev/null || true; done
    fi
    # Mounts dockerd may have left (netns bind mounts, container rootfs) under the state dir.
    if [[ -r /proc/self/mounts ]]; then
        awk -v d="${DIR}/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r |
            while read -r m; do umount -l "$m" 2>/dev/null || true; done
    fi
    rm -f "$OWN_SOCK" "$CTRD_SOCK" "${CTRD_SOCK}.ttrpc"
    leftovers="$(own_leftover_pids)"
    [[ -z "$leftovers" ]] || die "processes still running after stop: ${leftovers//$'\n'/ }"
    log "stopped"
}

cmd_status() {
    local ok=0 pid host
    [[ -d "$DIR" ]] || { echo "engine: not started (${DIR} does not exist)"; return 3; }
    host="$(current_docker_host)"
    if engine_is_external; then
        if docker_answers "$host"; then echo "dockerd:    external, answering at ${host}"; else echo "dockerd:    external ${host}, NOT answering"; ok=3; fi
    else
        pid="$(read_pid "${DIR}/containerd.pid")"
        if pid_alive "$pid"; then echo "containerd: running (pid ${pid})"; else echo "containerd: stopped"; ok=3; fi
        pid="$(read_pid "${DIR}/dockerd.pid")"
        if pid_alive "$pid" && docker_answers "$host"; then
            echo "dockerd:    running (pid ${pid}, ${host}, server $(DOCKER_HOST="$host" docker version --format '{{.Server.Version}}' 2>/dev/null))"
        elif pid_alive "$pid"; then
            echo "dockerd:    running (pid ${pid}) but NOT answering on ${host}"; ok=3
        else
            echo "dockerd:    stopped"; ok=3
        fi
    fi
    pid="$(read_pid "${DIR}/registry-a.pid")"
    if pid_alive "$pid" && registry_a_ready; then echo "registry-a: running (pid ${pid}, http://${ANON_ADDR}, anonymous)"; else echo "registry-a: stopped"; ok=3; fi
    pid="$(read_pid "${DIR}/registry-b.pid")"
    if pid_alive "$pid" && registry_b_ready; then echo "registry-b: running (pid ${pid}, https://${AUTH_ADDR}, user ${REG_USER})"; else echo "registry-b: stopped"; ok=3; fi
    if grep -q '^export WC_REGISTRY_TLS=' "${DIR}/env" 2>/dev/null; then
        pid="$(read_pid "${DIR}/registry-b-tls.pid")"
        if pid_alive "$pid" && registry_b_tls_ready; then echo "registry-b-tls: running (pid ${pid}, https://${TLS_ADDR}, same storage and user as registry-b)"; else echo "registry-b-tls: stopped"; ok=3; fi
    else
        echo "registry-b-tls: disabled"
    fi
    return "$ok"
}

cmd_env() {
    if [[ -s "${DIR}/env" ]]; then cat "${DIR}/env"; else env_lines; fi
}

cmd_purge() {
    # the test sshd (scripts/sshd.sh) keeps its state in a subdirectory of ours
    if [[ -s "${DIR}/sshd/sshd.pid" ]]; then
        WC_ENGINE_DIR="$DIR" bash "${REPO_ROOT}/scripts/sshd.sh" stop || true
    fi
    cmd_stop
    local d
    while read -r d; do rm -rf "${d:?}"; done < <(certs_d_dirs)
    # The /etc/hosts line may serve another engine directory (other ports): it stays unless
    # no strict-TLS registry of any engine runs any more.
    if ! pgrep -f 'docker-registry serve .*/registry-b-tls\.yml' >/dev/null 2>&1; then
        remove_hosts_entry
    fi
    rm -rf "${DIR:?}"
    log "purged ${DIR}"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    purge) cmd_purge ;;
    *) echo "usage: $0 start|stop|status|env|purge" >&2; exit 2 ;;
esac
