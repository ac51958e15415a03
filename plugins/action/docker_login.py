# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of wincontainers.images.docker_login (documentation in plugins/modules).

One exec reads the host's Docker client configuration with the constant ``login_state`` script,
which answers user names and, for the registry, whether the stored credential is the task's:
the request carries a random salt and HMAC-SHA256(salt, "user:password"), the host computes the
same of what it stores (config.json's ``auth``, or the credential helper's ``get``) and answers
only match / differs / token / absent / unknown. When it matches, nothing else happens.
Otherwise a second exec runs ``docker login --password-stdin``; in check mode the same call
runs with ``login_verify``, in a private temporary Docker configuration that is removed
afterwards, so the registry checks the credentials and nothing is written. The password travels
only on the standard input of those calls.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils import docker_cli, registry
from ansible_collections.wincontainers.images.plugins.plugin_utils.action import DockerActionBase, TaskFailed
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, CallResult, Host


class ActionModule(DockerActionBase):
    ARGUMENT_SPEC = {
        "registry_url": {"type": "str", "default": registry.DOCKER_HUB_KEY, "aliases": ["registry", "url"]},
        "username": {"type": "str"},
        "password": {"type": "str", "no_log": True},
        "reauthorize": {"type": "bool", "default": False, "aliases": ["reauth"]},
        "state": {"type": "str", "default": "present", "choices": ["absent", "present"]},
        "config_path": {"type": "str", "aliases": ["dockercfg_path", "docker_config"]},
    }

    def execute(self, host: Host, args: dict[str, Any]) -> dict[str, Any]:
        try:
            target = registry.parse_registry_url(args["registry_url"])
            config_dir = registry.check_config_path(args["config_path"], host.is_windows)
        except registry.OptionError as exc:
            raise TaskFailed(str(exc)) from None
        # Without config_path, the state is read where docker itself looks: DOCKER_CONFIG of the task's environment.
        state_dir = config_dir or host.engine.environment.get("DOCKER_CONFIG")
        present = args["state"] == "present"
        username = args["username"]
        if present:
            check_username(username)
            if not args["password"]:
                raise TaskFailed("password: required with state=present (and it cannot be empty)")
            request = registry.login_request(state_dir, target, username, args["password"])
        else:
            request = registry.login_request(state_dir, target)

        config = registry.DockerConfig.from_answer(host.execute("login_state", request))
        state = config.state(target)
        if present:
            needed = args["reauthorize"] or not state.same_credentials
        else:
            needed = state.has_credentials is not False
        result = self._result(target, config, state, username if present else None, needed)
        if not needed or (self.check_mode and not present):
            return result

        environment = dict(registry.config_environment(config_dir) or {})
        if present and config_dir and not config.names_credentials and config.default_store:
            # A config.json that names no credential store makes docker pick the platform's
            # helper (wincred on Windows) when it is on PATH; that helper fails in WinRM and SSH
            # sessions. A config_path of the task's own keeps its credentials in its config.json.
            environment["PATH"] = ""
            result["credentials_store"] = "file"
        if present:
            call = registry.login_call(target, username, args["password"], environment)
        else:
            call = Call(("logout", docker_cli.END_OF_FLAGS, target.address), environment=environment or None)
        if self.check_mode:
            # The registry checks the credentials, in a private configuration that is removed again.
            outcome = registry.verify_login(host, call)
        else:
            [outcome] = host.run([call])
        docker_cli.raise_for_engine(host, [outcome])
        if not outcome.ok:
            raise self._failure(host, target, config, state, username if present else None, outcome)
        if self.check_mode and state.error and registry.LOGON_SESSION_ERROR.search(state.error):
            # The credentials are right, but the helper docker would store them with cannot work here.
            raise TaskFailed("%s: login to %s as %s would fail: the %s credential helper answered: %s; %s" % (
                host.name, target.display, username, state.store, state.error, registry.WINCRED_HINT),
                changed=False, registry=target.key, config_file=config.config_file)
        return result

    def _failure(self, host: Host, target: registry.Registry, config: registry.DockerConfig, state: registry.LoginState,
                 username: str | None, outcome: CallResult) -> TaskFailed:
        detail = (outcome.stderr.strip() or outcome.stdout.strip() or "exit code %d" % outcome.rc)
        message = "%s: %s %s %s failed: %s" % (
            host.name, "logout from" if username is None else "login to", target.display,
            "" if username is None else "as %s" % username, detail)
        if registry.LOGON_SESSION_ERROR.search(detail):
            message += "; " + registry.WINCRED_HINT
        elif self.check_mode:
            message += "; check mode: the credentials were tried in a temporary configuration, %s was not changed" % (
                config.config_file)
        else:
            message += "; nothing was changed in %s" % config.config_file
            if state.has_credentials and username is not None:
                message += " (it still holds the credentials stored before%s)" % (
                    " for %s" % state.user if state.user else "")
        return TaskFailed(" ".join(message.split()), changed=False, registry=target.key, config_file=config.config_file)

    def _result(self, target, config, state, username, changed) -> dict[str, Any]:
        result: dict[str, Any] = {
            "changed": changed,
            "registry": target.key,
            "config_file": config.config_file,
            "credentials_store": state.store,
        }
        if username is not None:
            result["username"] = username
            result["login_result"] = {"serveraddress": target.key, "username": username}
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
