# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.docker_login (documentation in plugins/modules).

One exec reads the host's Docker client configuration with the constant ``docker_config``
script, which answers user names only. When the registry already has credentials for the same
user, nothing else happens. Otherwise a second exec runs ``docker login --password-stdin`` (or
``docker logout``); the password travels only on that call's standard input.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, registry
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, Host


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "registry_url": {"type": "str", "default": registry.DOCKER_HUB_KEY, "aliases": ["registry", "url"]},
        "username": {"type": "str"},
        "password": {"type": "str", "no_log": True},
        "reauthorize": {"type": "bool", "default": False, "aliases": ["reauth"]},
        "state": {"type": "str", "default": "present", "choices": ["absent", "present"]},
        "config_path": {"type": "str", "aliases": ["docker_config"]},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        try:
            target = registry.parse_registry_url(args["registry_url"])
            config_dir = registry.check_config_path(args["config_path"], host.is_windows)
        except registry.OptionError as exc:
            raise TaskFailed(str(exc)) from None
        present = args["state"] == "present"
        username = args["username"]
        if present:
            check_username(username)
            if not args["password"]:
                raise TaskFailed("password: required with state=present (and it cannot be empty)")

        config = registry.DockerConfig.from_answer(host.execute("docker_config", {"config_dir": config_dir}))
        state = config.state(target)
        if present:
            needed = args["reauthorize"] or not (state.has_credentials and state.user == username)
        else:
            needed = state.has_credentials is not False
        result = self._result(target, config, state, username if present else None, needed)
        if not needed or self.check_mode:
            return result

        environment = dict(registry.config_environment(config_dir) or {})
        if present and config_dir and not config.names_credentials and config.default_store:
            # A config.json that names no credential store makes docker pick the platform's
            # helper (wincred on Windows) when it is on PATH; that helper fails in WinRM and SSH
            # sessions. A config_path of the task's own keeps its credentials in its config.json.
            environment["PATH"] = ""
            result["credentials_store"] = "file"
        if present:
            call = Call(("login", "--username", username, "--password-stdin", docker_cli.END_OF_FLAGS, target.address),
                        stdin=args["password"], environment=environment or None)
        else:
            call = Call(("logout", docker_cli.END_OF_FLAGS, target.address), environment=environment or None)
        [outcome] = host.run([call])
        docker_cli.raise_for_engine(host, [outcome])
        if not outcome.ok:
            detail = (outcome.stderr.strip() or outcome.stdout.strip() or "exit code %d" % outcome.rc)
            message = "%s: %s %s %s failed: %s" % (
                host.name, "login to" if present else "logout from", target.display,
                "as %s" % username if present else "", detail)
            if registry.LOGON_SESSION_ERROR.search(detail):
                message += "; " + registry.WINCRED_HINT
            else:
                message += "; nothing was changed in %s" % config.config_file
            raise TaskFailed(" ".join(message.split()), changed=False, registry=target.key, config_file=config.config_file)
        return result

    def _result(self, target, config, state, username, changed) -> dict[str, Any]:
        result: dict[str, Any] = {
            "changed": changed,
            "registry": target.key,
            "config_file": config.config_file,
            "credentials_store": state.store,
        }
        if username is not None:
            result["username"] = username
        if state.error:
            result["warnings"] = ["could not ask the %s credential helper which user is logged in (%s)"
                                  % (state.store, state.error)]
        if self.diff_mode:
            after = {"logged_in": username is not None, "username": username}
            if not changed:
                after = {"logged_in": bool(state.has_credentials), "username": state.user}
            result["diff"] = {
                "before": {"logged_in": state.has_credentials, "username": state.user},
                "after": after,
            }
        return result


def check_username(value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise TaskFailed("username: required with state=present")
    if ":" in value or any(char.isspace() or not char.isprintable() for char in value):
        raise TaskFailed("username: %r cannot be used: it contains ':', whitespace or a control character" % value)
