# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options of every module: which Docker engine the docker CLI on the host uses."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - The Docker engine the docker CLI on the host talks to, passed to every docker command as its global option
        C(--host). One of C(unix:///path/to/docker.sock), C(npipe:////./pipe/docker_engine) (Windows hosts),
        C(tcp://host:2376) or C(ssh://user@host).
      - When not set, no C(--host) is passed and the docker CLI on the host decides as it always does, with
        C(DOCKER_HOST) of its environment (which the task's C(environment) keyword sets), else the current docker
        context, else the platform's default engine.
    type: str
    aliases: [docker_url]
  tls:
    description:
      - V(true) passes C(--tls) (TLS without verifying the engine's certificate), V(false) passes C(--tls=false).
      - When not set, nothing is passed; the docker CLI then reads C(DOCKER_TLS) of its environment.
      - O(validate_certs=true) implies TLS whatever this is.
    type: bool
  validate_certs:
    description:
      - V(true) passes C(--tlsverify) (TLS, and the engine's certificate must be signed by O(ca_path)),
        V(false) passes C(--tlsverify=false).
      - When not set, nothing is passed; the docker CLI then reads C(DOCKER_TLS_VERIFY) of its environment.
    type: bool
    aliases: [tls_verify]
  ca_path:
    description:
      - The CA certificate that signed the engine's certificate, passed as C(--tlscacert). A path on the host,
        absolute for its platform.
      - When not set, nothing is passed; the docker CLI then uses C(ca.pem) in C(DOCKER_CERT_PATH) of its
        environment, or in its configuration directory.
    type: str
    aliases: [ca_cert, tls_ca_cert, cacert_path]
  client_cert:
    description:
      - The client certificate presented to the engine, passed as C(--tlscert). A path on the host, absolute for
        its platform.
      - When not set, nothing is passed; the docker CLI then uses C(cert.pem) in C(DOCKER_CERT_PATH) of its
        environment, or in its configuration directory.
    type: str
    aliases: [tls_client_cert, cert_path]
  client_key:
    description:
      - The key of O(client_cert), passed as C(--tlskey). A path on the host, absolute for its platform.
      - When not set, nothing is passed; the docker CLI then uses C(key.pem) in C(DOCKER_CERT_PATH) of its
        environment, or in its configuration directory.
    type: str
    aliases: [tls_client_key, key_path]
  tls_hostname:
    description:
      - The name the engine's certificate must carry. The docker CLI has no option for it; it always verifies the
        host name of O(docker_host). The module therefore accepts this option only when it equals that host name,
        and fails before anything runs otherwise; give O(docker_host) with the certificate's name instead (the
        host's hosts file can map that name to the engine's address).
    type: str
  api_version:
    description:
      - The Docker API version the docker CLI uses, set as C(DOCKER_API_VERSION) in the environment of every docker
        command (it wins over the same variable in the task's C(environment)). V(auto) or not set leaves the
        choice to the docker CLI. Quote it in YAML (C("1.41")).
    type: str
    aliases: [docker_api_version]
  use_ssh_client:
    description:
      - The docker CLI reaches C(ssh://) engines only through the host's C(ssh) client, so V(true) changes nothing,
        and V(false) is refused before anything runs.
    type: bool
notes:
  - "The connection options become global options of the docker CLI on the host (C(docker --host ... --tlsverify
    ... image pull ...)) for every docker command the module runs, detached jobs included. Paths are paths on the
    host. An option that is not set passes nothing, so the docker CLI's own environment variables (C(DOCKER_HOST),
    C(DOCKER_TLS), C(DOCKER_TLS_VERIFY), C(DOCKER_CERT_PATH), C(DOCKER_API_VERSION), C(DOCKER_CONTEXT)) still
    apply; set them with the task's C(environment) keyword. The options of community.docker's modules that the
    docker CLI has no equivalent for (C(timeout) as an API timeout, C(ssl_version), C(debug)) are not accepted."
  - "The task's C(environment) keyword applies to every docker command the module runs on the host, on Windows
    and Linux hosts alike. Its values travel in the request on the command's standard input, never on a command
    line; a detached job keeps them in its request file in the job's private directory until the job is removed.
    A variable that a module option sets for a command (C(DOCKER_CONFIG) from C(config_path),
    C(DOCKER_API_VERSION) from O(api_version)) wins over the same variable in C(environment)."
  - "On Windows hosts the module fails when the task has C(become): ansible-core's C(runas) applies to modules run
    by its exec wrapper, which this collection does not use. Connect as the account that should run docker
    instead. On Linux hosts C(become) (C(sudo), C(su)) wraps every command the module runs."
"""
