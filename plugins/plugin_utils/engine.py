# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Docker engine a task's docker calls talk to, and the environment they run in.

* ``CONNECTION_SPEC``: the connection options every module accepts (documented once, in the
  ``docker`` doc fragment), named and aliased as community.docker names them so that the same
  ``module_defaults`` serve both. They become the docker CLI's global options (``--host``,
  ``--tls``, ``--tlsverify``, ``--tlscacert``, ``--tlscert``, ``--tlskey``), placed before the
  command of every docker call (``Settings.arguments``); ``api_version`` becomes
  ``DOCKER_API_VERSION`` in the calls' environment. An option that is not set passes nothing:
  the docker CLI on the host then reads its own ``DOCKER_HOST``, ``DOCKER_TLS``,
  ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH`` and ``DOCKER_API_VERSION``, which the task's
  ``environment:`` sets (community.docker reads them on the machine its module runs on, which
  for it is the host too).
* ``task_environment``: the task's ``environment:`` keyword, merged and templated by
  ansible-core's own ``ActionBase._compute_environment_string`` (the parent's values first, the
  task's win), as text. It travels in the JSON request of each docker call (never on a command
  line) and applies to the docker process; a call's own variables (``config_path`` sets
  ``DOCKER_CONFIG``, ``api_version`` sets ``DOCKER_API_VERSION``) win over it.
* ``check_become``: on Windows ansible-core's ``runas`` is done by the module exec wrapper,
  which our execs do not use; a task with ``become`` fails before anything runs instead of
  silently running as the connecting user.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import limits, options

CONNECTION_SPEC: dict[str, dict[str, Any]] = {
    "docker_host": {"type": "str", "aliases": ["docker_url"]},
    "tls": {"type": "bool"},
    "validate_certs": {"type": "bool", "aliases": ["tls_verify"]},
    "ca_path": {"type": "str", "aliases": ["ca_cert", "tls_ca_cert", "cacert_path"]},
    "client_cert": {"type": "str", "aliases": ["tls_client_cert", "cert_path"]},
    "client_key": {"type": "str", "aliases": ["tls_client_key", "key_path"]},
    "tls_hostname": {"type": "str"},
    "api_version": {"type": "str", "aliases": ["docker_api_version"]},
    "use_ssh_client": {"type": "bool"},
}

# The schemes the docker CLI connects to (docker/cli's ParseHost and connhelper): a Unix socket,
# a Windows named pipe, TCP (plain or TLS) and SSH (the host's ssh client runs "docker system
# dial-stdio" on the remote machine).
SCHEMES = ("unix", "npipe", "tcp", "ssh")
_API_VERSION = re.compile(r"[0-9]+\.[0-9]+")
_HOST_OF = re.compile(r"^(?:tcp|ssh)://(?:[^@/]*@)?(\[[^\]]*\]|[^:/]*)")

# (option, docker CLI flag) of the path options, in the order they are passed.
TLS_FILES = (("ca_path", "--tlscacert"), ("client_cert", "--tlscert"), ("client_key", "--tlskey"))


@dataclass(frozen=True)
class Settings:
    """The global options placed before every docker call's command, and the environment of
    every call (the task's ``environment:`` and what the connection options set)."""

    arguments: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict, repr=False)
    option_environment: Mapping[str, str] = field(default_factory=dict)

    def call_environment(self, own: Mapping[str, str] | None) -> dict[str, str]:
        """The environment of one docker call: the task's, then the options', then the call's own."""
        merged = dict(self.environment)
        merged.update(self.option_environment)
        merged.update(own or {})
        return merged


def check_docker_host(value: Any, windows: bool) -> str:
    """A docker_host the docker CLI on the host can connect to: ``unix:///path``,
    ``npipe:////./pipe/name`` (Windows), ``tcp://host:port`` or ``ssh://[user@]host[:port]``."""
    if not isinstance(value, str) or not value:
        raise options.OptionError("docker_host: %r is not a Docker engine address" % (value,))
    shown = limits.preview(value)
    if any(ord(char) < 33 or ord(char) == 127 for char in value):
        raise options.OptionError("docker_host: %s contains a space, a line break or another control character" % shown)
    scheme, separator, rest = value.partition("://")
    if not separator or scheme not in SCHEMES:  # docker compares the scheme as it is: TCP:// is refused
        raise options.OptionError(
            "docker_host: %s is not a Docker engine address the docker CLI connects to: give unix:///path/to/docker.sock, "
            "npipe:////./pipe/docker_engine (Windows), tcp://host:2376 or ssh://user@host" % shown)
    if scheme == "npipe" and not windows:
        raise options.OptionError("docker_host: %s is a Windows named pipe, but the host is not Windows; give "
                                  "unix:///path/to/docker.sock, tcp://host:2376 or ssh://user@host" % shown)
    if scheme == "unix" and not (rest.startswith("/") or (windows and re.match(r"[A-Za-z]:[\\/]", rest))):
        raise options.OptionError("docker_host: %s does not name a socket by its absolute path (e.g. "
                                  "unix:///var/run/docker.sock)" % shown)
    if scheme == "npipe" and not re.match(r"^//\./pipe/[^/]+$", rest.replace("\\", "/")):
        raise options.OptionError("docker_host: %s does not name a pipe of this machine (e.g. "
                                  "npipe:////./pipe/docker_engine)" % shown)
    if scheme in ("tcp", "ssh") and not _host_name(value):
        raise options.OptionError("docker_host: %s names no host (e.g. %s)"
                                  % (shown, "tcp://host:2376" if scheme == "tcp" else "ssh://user@host"))
    limits.check_path_length(windows, value, "docker_host")
    return value


def _host_name(docker_host: str) -> str:
    match = _HOST_OF.match(docker_host)
    return match.group(1).strip("[]").lower() if match else ""


def settings(args: Mapping[str, Any], windows: bool, environment: Mapping[str, str] | None = None) -> Settings:
    """The docker CLI's global options for the task's connection options; raises ``OptionError``
    naming the option and its value for anything the host's docker could not use."""
    arguments: list[str] = []
    docker_host = args.get("docker_host")
    if docker_host is not None:
        arguments += ["--host", check_docker_host(docker_host, windows)]
    for option, flag in (("tls", "--tls"), ("validate_certs", "--tlsverify")):
        if args.get(option) is not None:
            arguments.append(flag if args[option] else flag + "=false")
    example = "C:\\ProgramData\\docker\\certs\\%s" if windows else "/etc/docker/certs/%s"
    for option, flag in TLS_FILES:
        if args.get(option) is not None:
            name = {"ca_path": "ca.pem", "client_cert": "cert.pem", "client_key": "key.pem"}[option]
            arguments += [flag, options.absolute_path(args[option], option, windows, example % name)]
    hostname = args.get("tls_hostname")
    if hostname is not None:
        wanted = str(hostname).strip("[]").lower()
        if docker_host is None or _host_name(docker_host) != wanted:
            raise options.OptionError(
                "tls_hostname: %s cannot be honoured: the docker CLI has no option for the name it verifies in the "
                "engine's certificate; it verifies the host name of docker_host%s. Give docker_host with that name "
                "(tcp://%s:2376; map the name to the engine's address in the host's hosts file if DNS does not), "
                "or leave tls_hostname unset"
                % (limits.preview(str(hostname)), " (%s)" % limits.preview(_host_name(docker_host))
                   if docker_host is not None and _host_name(docker_host) else " (unset here)",
                   limits.preview(str(hostname))))
    if args.get("use_ssh_client") is False:
        raise options.OptionError(
            "use_ssh_client: false cannot be honoured: the docker CLI connects to ssh:// engines only through the "
            "host's ssh client; leave use_ssh_client unset (or true)")
    cost = sum(limits.argument_cost(windows, argument) for argument in arguments)
    if cost > limits.GLOBAL_OPTIONS_MAX:
        given = [option for option in ("docker_host", "ca_path", "client_cert", "client_key") if args.get(option)]
        raise options.OptionError(
            "%s: the docker global options these give take %s of every docker command line; the collection keeps "
            "{:,} for them. Use shorter paths".format(limits.GLOBAL_OPTIONS_MAX)
            % (", ".join(given), "{:,} characters".format(cost) if windows else "{:,} bytes".format(cost)))
    option_environment: dict[str, str] = {}
    api_version = args.get("api_version")
    if api_version is not None and api_version != "auto":
        if not _API_VERSION.fullmatch(str(api_version)):
            raise options.OptionError("api_version: %s is not a Docker API version: give auto or a version such as "
                                      "1.41 (quoted in YAML)" % limits.preview(str(api_version)))
        option_environment["DOCKER_API_VERSION"] = str(api_version)
    return Settings(tuple(arguments), dict(environment or {}), option_environment)


# --- the task's environment: keyword -----------------------------------------------------------


def task_environment(action: Any) -> dict[str, str]:
    """The task's ``environment:`` as ansible-core computes it for modules (its own
    ``_compute_environment_string``: the list of dicts from play, block and task templated and
    merged, the innermost winning), with every value as text. Values may be secrets: errors name
    the variable, never its value."""
    environment: dict[str, Any] = {}
    action._compute_environment_string(environment)
    result = {}
    for name, value in environment.items():
        if not isinstance(name, str) or not name or "=" in name or "\0" in name:
            raise options.OptionError("environment: %r is not an environment variable name" % (name,))
        if value is None or not isinstance(value, (str, int, float)):
            raise options.OptionError(
                "environment: %s must be a string, got %s (the value is not shown: environment values may be secrets)"
                % (name, "null" if value is None else "a %s" % type(value).__name__))
        text = str(value)  # as ansible-core's shells do (to_text): 1 is "1", true is "True"
        if "\0" in text:
            raise options.OptionError("environment: %s contains a NUL character, which no environment can hold" % name)
        result[name] = text
    return result


def check_become(action: Any, windows: bool, host_name: str) -> None:
    """Refuse ``become`` on Windows hosts, where it would be ignored: ansible-core's runas is
    done by its module exec wrapper, and this collection's execs are low-level commands that
    ansible-core never wraps for PowerShell."""
    context = action._play_context
    if not windows or not getattr(context, "become", False):
        return
    method = getattr(context, "become_method", None) or "runas"
    user = getattr(context, "become_user", None)
    raise options.OptionError(
        "%s: become is not supported by this module on Windows hosts (the task has become: true, become_method: %s%s): "
        "its commands run through the connection as the connecting user, and runas would not apply to them. Connect "
        "as the account that should run docker (ansible_user), or run the task from a scheduled task, and remove "
        "become from this task" % (host_name, method, ", become_user: %s" % user if user else ""))
