# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file holds the documentation of an action plugin: the code is in plugins/action/docker_login.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_login
short_description: Log a Windows or Linux Docker host in to a registry, or out of it, idempotently
version_added: 0.1.0
description:
  - Logs the Docker client of the managed host in to Docker Hub or a private registry (workflow S15, C(docker login)),
    or logs it out (O(state=absent), C(docker logout)).
  - Idempotent by the stored credentials. When the Docker client configuration of the host already holds exactly
    O(username) and O(password) for O(registry_url) (in C(config.json) or in its credential helper), nothing is done
    and the task reports no change (one round trip), unless O(reauthorize). When it holds other credentials (another
    user, or a password that was changed), the module logs in again and reports a change.
  - The comparison never sends a secret back to the controller. The controller sends the host a random salt and the
    HMAC-SHA256 of C(username:password) with it; the host computes the same of what it stores (the C(auth) of
    C(config.json), or what the credential helper's C(get) returns) and answers only whether they are equal.
  - In check mode the registry checks the credentials whenever they differ from the stored ones (C(docker login) with a
    private temporary Docker configuration on the host, removed afterwards; the real configuration is not written).
    So a wrong password fails in check mode as it would in a real run.
  - The password travels only on the standard input of the host's scripts (C(docker login --password-stdin)). It is
    never part of a command line, a script, a file written by the module, a result or C(-vvv) output.
  - A wrong password fails the task with the registry's answer, and Docker writes nothing to the configuration.
author:
  - wincontainers.images developers (@wincontainers)
options:
  registry_url:
    description:
      - The registry, as V(host), V(host:port) or V(https://host[:port]). Any path is ignored, as by C(docker login).
      - V(docker.io), V(index.docker.io) and V(registry-1.docker.io) all mean Docker Hub, whose credentials Docker keeps
        under V(https://index.docker.io/v1/).
    type: str
    default: https://index.docker.io/v1/
    aliases: [registry, url]
  username:
    description:
      - The user to log in as. Required with O(state=present).
    type: str
  password:
    description:
      - The password or access token. Required with O(state=present).
    type: str
  reauthorize:
    description:
      - Log in again even when the configuration already holds exactly these credentials. The task then always reports
        a change (in check mode, after the registry accepted the credentials).
    type: bool
    default: false
    aliases: [reauth]
  state:
    description:
      - V(present) logs in, V(absent) logs out (removes the stored credentials).
    type: str
    choices: [absent, present]
    default: present
  config_path:
    description:
      - A Docker client configuration directory on the host, used instead of the default
        (C(%USERPROFILE%\.docker) on Windows, C(~/.docker) on Linux, or the host's E(DOCKER_CONFIG)). It is passed to
        docker as E(DOCKER_CONFIG). A path ending in C(config.json) means its directory.
      - Give the same O(config_path) to M(wincontainers.images.docker_image_pull) and
        M(wincontainers.images.docker_image_push) so that they use these credentials.
      - When the C(config.json) there names no credential store, the module keeps the credentials in that
        C(config.json) rather than in the helper Docker would pick by itself (see the notes on C(wincred)).
      - An absolute path on the managed host (V(C:\\...) or V(\\\\server\\share\\...) on Windows, V(/...) on Linux); a
        relative path is refused before anything runs. C(~) is not expanded.
    type: str
    aliases: [dockercfg_path, docker_config]
extends_documentation_fragment:
  - wincontainers.images.docker
  - wincontainers.images.attributes
  - wincontainers.images.attributes.CHANGING_MODULE
notes:
  - "The C(wincred) trap: on Windows, when the Docker configuration names no credential store, C(docker login) uses the
    Windows credential manager through C(docker-credential-wincred.exe) if that program is on E(PATH) (Docker Desktop
    installs it). In a non-interactive remote session (WinRM, SSH) the credential manager is not available and the
    login fails with C(A specified logon session does not exist. It may already have been terminated.)
    The module reports that failure with this hint. The fix: give O(config_path) a directory of the task's own, for
    example C(C:\\ProgramData\\ansible\\docker-config); the module then runs C(docker login) so that the
    credentials are stored in that directory's C(config.json) (base64, readable by the accounts that can read the
    directory, as with any Docker configuration without a credential store). Protect the directory with ACLs.
    Setting C(\"credsStore\": \"\") in the default configuration does not help on its own: Docker picks the helper
    again as long as the file holds no credentials."
  - "Which user is logged in is read from C(config.json) (the user part of the stored C(auth); the password part is
    discarded on the host) or, for a credential helper, from its C(list) command, which returns server and user
    names only; whether the stored password is O(password) is decided on the host as described above. Helpers the
    module asks: C(desktop), C(wincred), C(pass), C(secretservice), C(osxkeychain); with any other helper the module
    cannot tell who is logged in and logs in again."
  - "A registry that answers a login with an identity token (Docker then stores the token instead of the password,
    C(identitytoken) in C(config.json)) cannot be compared with a password: the module logs in again at every run and
    reports a change."
  - "In check mode, verifying credentials needs the Docker engine and the registry, as a real login does. The
    temporary configuration holds no Docker context: with a Docker context selected in the host's configuration
    (rather than E(DOCKER_HOST)) the check asks the default engine."
  - Docker Hub needs internet access from the managed host; the tests of this module use a private registry
    (TLS and basic authentication).
seealso:
  - module: wincontainers.images.docker_image_pull
  - module: wincontainers.images.docker_image_push
"""

EXAMPLES = r"""
- name: Log in to a private registry (the password from a vault variable)
  wincontainers.images.docker_login:
    registry_url: registry.example.com:5000
    username: deploy
    password: "{{ vault_registry_password }}"

- name: Log in over WinRM with a configuration of the task's own (avoids the wincred helper)
  wincontainers.images.docker_login:
    registry_url: registry.example.com
    username: deploy
    password: "{{ vault_registry_password }}"
    config_path: C:\ProgramData\ansible\docker-config

- name: Pull with those credentials
  wincontainers.images.docker_image_pull:
    name: registry.example.com/apps/web:1.4
    config_path: C:\ProgramData\ansible\docker-config

- name: Log out of Docker Hub
  wincontainers.images.docker_login:
    state: absent
"""

RETURN = r"""
registry:
  description: The key of the registry in the Docker configuration (V(host[:port]), or V(https://index.docker.io/v1/)).
  returned: always
  type: str
  sample: registry.example.com:5000
username:
  description: The user logged in as.
  returned: success and O(state=present)
  type: str
  sample: deploy
login_result:
  description:
    - The registry and user of the login, as community.docker.docker_login returns them. Never holds the password.
  returned: success and O(state=present)
  type: dict
  contains:
    serveraddress:
      description: The registry, as RV(registry).
      type: str
      sample: registry.example.com:5000
    username:
      description: The user, as RV(username).
      type: str
      sample: deploy
  sample:
    serveraddress: registry.example.com:5000
    username: deploy
config_file:
  description: The Docker configuration file on the host.
  returned: success
  type: str
  sample: C:\ProgramData\ansible\docker-config\config.json
credentials_store:
  description: Where Docker keeps the credentials of this registry, V(file) (C(config.json)) or a credential helper's name.
  returned: success
  type: str
  sample: file
diff:
  description: With C(--diff), whether the registry had credentials and for which user, before and after.
  returned: success and diff mode
  type: dict
  sample:
    before:
      logged_in: false
      username: null
    after:
      logged_in: true
      username: deploy
"""
