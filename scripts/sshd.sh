#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A throwaway OpenSSH server on loopback, so the integration tests can drive the private
# Docker engine of scripts/engine.sh over a real "ssh" connection as well as "local".
#
#   scripts/sshd.sh start    start (or reuse) sshd on 127.0.0.1:<port>
#   scripts/sshd.sh stop     stop it (by its pid file) and wait until it has exited
#   scripts/sshd.sh status   report it (exit 0 when it runs and a login works, 3 otherwise)
#   scripts/sshd.sh env      print the shell export lines (also kept in $WC_ENGINE_DIR/sshd/env)
#
# Everything lives in ${WC_ENGINE_DIR:-/tmp/wincontainers-engine}/sshd: a host key and a
# client key generated at the first start (ed25519, no passphrase), sshd_config, known_hosts
# (the host key for [127.0.0.1]:<port>), the pid file, sshd.log and env:
#
#   WC_SSH_HOST=127.0.0.1  WC_SSH_PORT=<port>  WC_SSH_USER=root
#   WC_SSH_KEY=<client key>  WC_SSH_KNOWN_HOSTS=<known_hosts>
#
# The port is ${WC_SSHD_PORT:-5553}, or the next free one up to 5599. The server's own
# configuration (the system's /etc/ssh/sshd_config is never read): listen on 127.0.0.1 only,
# public key authentication only, root may log in with the key (PermitRootLogin
# prohibit-password) and nobody else (AllowUsers root), no PAM, StrictModes on, no forwarding.
# The accepted key is the generated client key, restricted to connections from 127.0.0.1. It is
# handed to sshd by "AuthorizedKeysCommand /usr/bin/cat <state dir>/authorized_keys" rather than
# AuthorizedKeysFile: StrictModes refuses a keys file below a world-writable directory (/tmp)
# and the default state directory is under /tmp; the alternative, root's ~/.ssh, is not ours to
# change. Logins get DOCKER_HOST of the engine (SetEnv), so "docker" in an ssh session talks to
# the private engine. The login shell is root's own (HOME from the password database).
#
# Changes outside the state directory: creates /run/sshd (sshd's privilege separation
# directory, root 0755) when it is missing. Nothing else: no system sshd is started or
# configured, ~/.ssh is not touched (clients use WC_SSH_KNOWN_HOSTS).
#
# Needs root and openssh-server + openssh-client (scripts/bootstrap.sh), and the engine's
# env file (scripts/engine.sh start) for DOCKER_HOST.

set -euo pipefail

ENGINE_DIR="${WC_ENGINE_DIR:-/tmp/wincontainers-engine}"
DIR="${ENGINE_DIR}/sshd"
FIRST_PORT="${WC_SSHD_PORT:-5553}"
LAST_PORT=5599
SSHD="${WC_SSHD:-/usr/sbin/sshd}"
START_TIMEOUT=20

PIDFILE="${DIR}/sshd.pid"
CONFIG="${DIR}/sshd_config"
HOST_KEY="${DIR}/host_ed25519_key"
CLIENT_KEY="${DIR}/client_ed25519_key"
AUTHORIZED="${DIR}/authorized_keys"
KNOWN_HOSTS="${DIR}/known_hosts"
ENV_FILE="${DIR}/env"
LOG_FILE="${DIR}/sshd.log"

log() { printf 'sshd: %s\n' "$*" >&2; }
die() { printf 'sshd: ERROR: %s\n' "$*" >&2; exit 1; }

need() {
    local cmd
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' not found; run scripts/bootstrap.sh (as root) first"
    done
}

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

read_pid() {
    if [[ -s "$1" ]]; then tr -dc '0-9' <"$1" 2>/dev/null || true; fi
}

port_busy() {  # something accepts connections on 127.0.0.1:PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

configured_port() {  # the port of the current sshd_config, if any
    awk '$1 == "Port" { print $2; exit }' "$CONFIG" 2>/dev/null || true
}

engine_docker_host() {  # DOCKER_HOST from the engine's env file
    [[ -s "${ENGINE_DIR}/env" ]] || die "${ENGINE_DIR}/env not found: start the engine first (scripts/engine.sh start)"
    # shellcheck disable=SC1091
    (source "${ENGINE_DIR}/env" && [[ -n "${DOCKER_HOST:-}" ]] && printf '%s' "$DOCKER_HOST") ||
        die "${ENGINE_DIR}/env names no DOCKER_HOST"
}

ssh_login_works() {  # a login with the client key runs a command and reaches the engine
    [[ -s "$ENV_FILE" && -s "$CLIENT_KEY" ]] || return 1
    local port
    port="$(configured_port)"
    [[ -n "$port" ]] || return 1
    timeout 15 ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityFile="$CLIENT_KEY" \
        -o UserKnownHostsFile="$KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes \
        -o ConnectTimeout=5 -o LogLevel=ERROR -p "$port" root@127.0.0.1 \
        'docker version --format "{{.Server.Version}}"' >/dev/null 2>&1
}

# --- keys and configuration ---------------------------------------------------------------

ensure_keys() {
    if [[ ! -s "$HOST_KEY" || ! -s "${HOST_KEY}.pub" ]]; then
        rm -f "$HOST_KEY" "${HOST_KEY}.pub"
        ssh-keygen -q -t ed25519 -N '' -C "wincontainers.images test sshd host key" -f "$HOST_KEY"
    fi
    if [[ ! -s "$CLIENT_KEY" || ! -s "${CLIENT_KEY}.pub" ]]; then
        rm -f "$CLIENT_KEY" "${CLIENT_KEY}.pub"
        ssh-keygen -q -t ed25519 -N '' -C "wincontainers.images test client key" -f "$CLIENT_KEY"
    fi
    chmod 600 "$HOST_KEY" "$CLIENT_KEY"
    printf 'from="127.0.0.1",no-agent-forwarding,no-port-forwarding,no-X11-forwarding %s\n' \
        "$(cat "${CLIENT_KEY}.pub")" >"${AUTHORIZED}.new"
    chmod 600 "${AUTHORIZED}.new"
    mv -f "${AUTHORIZED}.new" "$AUTHORIZED"
}

write_config() {  # write_config PORT DOCKER_HOST
    local port="$1" docker_host="$2"
    # sshd_config has no quoting for these values: refuse what would need it
    [[ "$DIR" != *[[:space:]\"\'\\%]* ]] || die "the state directory ${DIR} must not contain spaces, quotes, backslashes or %"
    [[ "$docker_host" != *[[:space:]\"\'\\]* ]] || die "DOCKER_HOST=${docker_host} must not contain spaces, quotes or backslashes"
    cat >"${CONFIG}.new" <<EOF
# scripts/sshd.sh: a throwaway sshd for the wincontainers.images integration tests
Port ${port}
ListenAddress 127.0.0.1
AddressFamily inet
HostKey ${HOST_KEY}
PidFile ${PIDFILE}
PermitRootLogin prohibit-password
AllowUsers root
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
StrictModes yes
AuthorizedKeysFile none
AuthorizedKeysCommand /usr/bin/cat ${AUTHORIZED}
AuthorizedKeysCommandUser root
PermitUserEnvironment no
SetEnv DOCKER_HOST=${docker_host}
DisableForwarding yes
PermitTunnel no
PrintMotd no
PrintLastLog no
MaxStartups 64:30:128
MaxSessions 32
Subsystem sftp internal-sftp
LogLevel INFO
EOF
    chmod 600 "${CONFIG}.new"
    "$SSHD" -t -f "${CONFIG}.new" || die "sshd rejects the generated configuration ${CONFIG}.new"
    mv -f "${CONFIG}.new" "$CONFIG"
    printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "${HOST_KEY}.pub")" >"$KNOWN_HOSTS"
    chmod 644 "$KNOWN_HOSTS"
}

env_lines() {
    printf 'export WC_SSH_HOST=%q\n' 127.0.0.1
    printf 'export WC_SSH_PORT=%q\n' "$(configured_port)"
    printf 'export WC_SSH_USER=%q\n' root
    printf 'export WC_SSH_KEY=%q\n' "$CLIENT_KEY"
    printf 'export WC_SSH_KNOWN_HOSTS=%q\n' "$KNOWN_HOSTS"
}

# --- commands ---------------------------------------------------------------------------

stop_sshd() {
    local pid i
    pid="$(read_pid "$PIDFILE")"
    if pid_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            pid_alive "$pid" || break
            sleep 0.1
        done
        if pid_alive "$pid"; then
            log "sshd (pid $pid) did not exit after 10s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$PIDFILE"
}

launch() {  # launch PORT: start sshd there; 0 when it answers, 1 when it could not bind
    local port="$1" pid i
    rm -f "$PIDFILE"
    # -D: no fork, so the pid of the background job is sshd's; setsid: out of our session
    setsid "$SSHD" -D -f "$CONFIG" -E "$LOG_FILE" </dev/null >/dev/null 2>&1 &
    pid=$!
    echo "$pid" >"$PIDFILE"
    for ((i = 0; i < START_TIMEOUT * 10; i++)); do
        if ! pid_alive "$pid"; then
            rm -f "$PIDFILE"
            if tail -n 5 "$LOG_FILE" 2>/dev/null | grep -qiE 'address already in use|cannot bind'; then
                return 1
            fi
            tail -n 20 "$LOG_FILE" >&2 || true
            die "sshd exited during start-up; log: ${LOG_FILE}"
        fi
        if port_busy "$port" && ssh_login_works; then
            return 0
        fi
        sleep 0.1
    done
    stop_sshd
    tail -n 20 "$LOG_FILE" >&2 || true
    die "sshd did not accept a login on 127.0.0.1:${port} within ${START_TIMEOUT}s; log: ${LOG_FILE}"
}

cmd_start() {
    local docker_host pid port
    [[ "$(id -u)" == "0" ]] || die "must run as root (sshd)"
    need ssh ssh-keygen setsid timeout
    [[ -x "$SSHD" ]] || die "$SSHD not found; run scripts/bootstrap.sh (openssh-server)"
    [[ -x /usr/bin/cat ]] || die "/usr/bin/cat not found (AuthorizedKeysCommand)"
    docker_host="$(engine_docker_host)"
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    [[ -O "$DIR" ]] || die "$DIR exists and is not owned by $(id -un)"
    # sshd's privilege separation directory (created by the ssh service on a normal system)
    [[ -d /run/sshd ]] || install -d -m 0755 -o root -g root /run/sshd

    pid="$(read_pid "$PIDFILE")"
    if pid_alive "$pid" && grep -qxF "SetEnv DOCKER_HOST=${docker_host}" "$CONFIG" 2>/dev/null && ssh_login_works; then
        log "already running (pid ${pid}, 127.0.0.1:$(configured_port))"
        return 0
    fi
    stop_sshd
    ensure_keys
    port="$(configured_port)"
    port="${port:-$FIRST_PORT}"
    ((port >= FIRST_PORT && port <= LAST_PORT)) || port="$FIRST_PORT"
    while ((port <= LAST_PORT)); do
        if ! port_busy "$port"; then
            write_config "$port" "$docker_host"
            env_lines >"${ENV_FILE}.new"
            mv -f "${ENV_FILE}.new" "$ENV_FILE"
            if launch "$port"; then
                log "up (pid $(read_pid "$PIDFILE"), root@127.0.0.1:${port}, DOCKER_HOST=${docker_host}); environment: ${ENV_FILE}"
                return 0
            fi
            log "sshd could not listen on 127.0.0.1:${port}; trying the next port"
        fi
        port=$((port + 1))
    done
    tail -n 20 "$LOG_FILE" >&2 || true
    die "no free port for sshd in ${FIRST_PORT}..${LAST_PORT}; log: ${LOG_FILE}"
}

cmd_stop() {
    [[ -d "$DIR" ]] || { log "nothing to stop (${DIR} does not exist)"; return 0; }
    stop_sshd
    log "stopped"
}

cmd_status() {
    local pid
    pid="$(read_pid "$PIDFILE")"
    if pid_alive "$pid" && ssh_login_works; then
        echo "sshd: running (pid ${pid}, root@127.0.0.1:$(configured_port), key ${CLIENT_KEY})"
        return 0
    elif pid_alive "$pid"; then
        echo "sshd: running (pid ${pid}) but a login with ${CLIENT_KEY} does not work"
    else
        echo "sshd: stopped"
    fi
    return 3
}

cmd_env() {
    [[ -s "$ENV_FILE" ]] || die "${ENV_FILE} not found: start it first (scripts/sshd.sh start)"
    cat "$ENV_FILE"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
