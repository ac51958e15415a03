# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registries: login state from the Docker client configuration, registry manifests, search.

Everything here is controller-side decision logic on data the host returned:

* ``parse_registry_url`` / ``DockerConfig``: which key ``docker login`` stores a registry's
  credentials under, which user the host's ``config.json`` (or its credential helper) holds
  credentials for, and whether they are the task's credentials. The host answers user names and
  one word per stored credential (``login_state``: match, differs, token, absent, unknown),
  compared on the host with a salted HMAC (``login_request``); no secret, and no hash of one,
  ever reaches the controller.
* ``manifest_call`` / ``read_manifest`` / ``registry_holds``: what a registry holds for a tag,
  read with ``docker manifest inspect --verbose`` (the docker CLI's own registry client, so the
  host's credentials, credential helpers and ``certs.d`` CAs apply as for a push or pull), and
  whether that is the local image.
* ``search_call`` / ``read_search``: ``docker search --format '{{json .}}'``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.wincontainers.images.plugins.plugin_utils.docker_cli import (
    END_OF_FLAGS,
    DockerError,
    first_line,
    json_documents,
    raise_for_engine,
)
from ansible_collections.wincontainers.images.plugins.plugin_utils.host import Call, CallResult, Host
from ansible_collections.wincontainers.images.plugins.plugin_utils.options import absolute_path
from ansible_collections.wincontainers.images.plugins.plugin_utils.reference import (
    DEFAULT_DOMAIN,
    ImageReference,
    parse_reference,
)

# The key docker stores Docker Hub credentials under (registry.IndexServer in docker/cli).
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
DOCKER_HUB_HOSTS = frozenset(("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"))

_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$")
_URL = re.compile(r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?(?P<host>[^/?#]*)(?P<rest>.*)$")


class RegistryError(DockerError):
    """A registry could not answer the question (down, refused, unauthorised, ...)."""


class OptionError(ValueError):
    """A bad option value; the message names the option and the value."""


# --- registries and login state --------------------------------------------------------------

@dataclass(frozen=True)
class Registry:
    """A registry as ``docker login`` knows it."""

    address: str  # what docker login / logout are given
    key: str  # the config.json key: host[:port], or DOCKER_HUB_KEY
    is_docker_hub: bool

    @property
    def display(self) -> str:
        return "Docker Hub" if self.is_docker_hub else self.key


def config_key(server: str) -> str:
    """The key docker uses for a server address (its ConvertToHostname, Docker Hub unified)."""
    text = server.strip()
    match = _URL.match(text)
    host = match.group("host") if match and match.group("scheme") else text.split("/", 1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.lower() in DOCKER_HUB_HOSTS or text == DOCKER_HUB_KEY:
        return DOCKER_HUB_KEY
    return host


def parse_registry_url(value: Any, option: str = "registry_url") -> Registry:
    """Check a registry address (``host[:port]``, optionally as an http(s) URL) before it is used."""
    if not isinstance(value, str) or not value.strip():
        raise OptionError("%s: %r is not a registry address (expected host[:port] or https://host[:port])" % (option, value))
    text = value.strip()
    if any(char.isspace() or not char.isprintable() for char in text):
        raise OptionError("%s: %r contains whitespace or control characters" % (option, value))
    match = _URL.match(text)
    if match is None or match.group("scheme") not in (None, "http", "https"):
        raise OptionError("%s: %r is not a registry address: only http:// and https:// URLs are allowed" % (option, value))
    host = match.group("host")
    if not _HOST.match(host):
        raise OptionError("%s: %r is not a registry address: %r is not host[:port]" % (option, value, host))
    key = config_key(text)
    if key == DOCKER_HUB_KEY:
        return Registry(address=DOCKER_HUB_KEY, key=DOCKER_HUB_KEY, is_docker_hub=True)
    return Registry(address=key, key=key, is_docker_hub=False)


def registry_of(reference: ImageReference) -> Registry:
    """The registry an image reference lives in."""
    if reference.domain == DEFAULT_DOMAIN:
        return Registry(address=DOCKER_HUB_KEY, key=DOCKER_HUB_KEY, is_docker_hub=True)
    return Registry(address=reference.domain, key=reference.domain, is_docker_hub=False)


def check_config_path(value: Any, windows: bool, option: str = "config_path") -> str | None:
    """A Docker configuration directory on the host (``.../config.json`` means its directory),
    an absolute path for the host's dialect: a relative one would put credentials in whatever
    directory the remote shell starts in."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise OptionError("%s: %r is not a directory path" % (option, value))
    if any(char in value for char in "\r\n\0"):
        raise OptionError("%s: %r contains a line break or NUL character" % (option, value))
    text = value.strip()
    name = re.split(r"[\\/]", text)[-1]
    if name.lower() == "config.json":
        text = text[: -len(name)].rstrip("\\/") or text[: -len(name)]
        if re.fullmatch(r"[A-Za-z]:", text):
            text += "\\"  # C:\config.json: the drive's root
        if not text:
            raise OptionError("%s: %r names a config.json without its directory" % (option, value))
    example = "C:\\ProgramData\\ansible\\docker-config" if windows else "/etc/ansible/docker-config"
    try:
        return absolute_path(text, option, windows, example)
    except ValueError as exc:
        raise OptionError(str(exc)) from None


def config_environment(config_dir: str | None) -> dict[str, str] | None:
    return {"DOCKER_CONFIG": config_dir} if config_dir else None


def registry_hosts(registry: Registry) -> list[str]:
    """The host names whose stored credentials are the registry's (docker's ConvertToHostname of a key)."""
    if registry.is_docker_hub:
        return sorted(DOCKER_HUB_HOSTS)
    return [registry.key]


def credential_digest(salt: bytes, username: str, password: str) -> str:
    """HMAC-SHA256 of ``user:password`` (what config.json's ``auth`` holds, base64-encoded) keyed by a salt."""
    return base64.b64encode(hmac.new(salt, ("%s:%s" % (username, password)).encode("utf-8"), hashlib.sha256).digest()).decode("ascii")


def login_request(config_dir: str | None, registry: Registry, username: str | None = None,
                  password: str | None = None) -> dict[str, Any]:
    """The ``login_state`` request: with credentials, a new random salt and their salted HMAC, so
    the host can tell whether it stores exactly these credentials; the password itself is not sent."""
    request: dict[str, Any] = {"config_dir": config_dir, "hosts": registry_hosts(registry), "server": registry.address}
    if username is not None and password is not None:
        salt = os.urandom(32)
        request["salt"] = base64.b64encode(salt).decode("ascii")
        request["digest"] = credential_digest(salt, username, password)
    return request


# What login_state answers for a stored credential compared with the task's.
CREDENTIAL_WORDS = frozenset(("match", "differs", "token", "absent", "unknown"))


@dataclass(frozen=True)
class LoginState:
    """What the host's Docker configuration holds for one registry."""

    has_credentials: bool | None  # None: unknown (the credential helper could not be asked)
    user: str | None
    store: str  # "file" or the credential helper's name
    error: str | None = None
    credential: str | None = None  # the stored credential against the task's: one of CREDENTIAL_WORDS, or None

    @property
    def same_credentials(self) -> bool:
        """The host stores exactly the task's user and password for the registry."""
        return self.credential == "match"


@dataclass
class DockerConfig:
    """The docker client configuration in the answer of the ``login_state`` script (user names and
    comparison words only, never secrets)."""

    config_dir: str
    config_file: str
    exists: bool
    creds_store: str | None
    cred_helpers: dict[str, str]
    auths: dict[str, dict[str, Any]]
    helpers: dict[str, dict[str, Any]]
    default_store: str | None

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any]) -> DockerConfig:
        """From the answer of ``login_state``."""
        return cls(
            config_dir=str(answer.get("config_dir") or ""),
            config_file=str(answer.get("config_file") or ""),
            exists=bool(answer.get("exists")),
            creds_store=answer.get("creds_store") or None,
            cred_helpers=dict(answer.get("cred_helpers") or {}),
            auths=dict(answer.get("auths") or {}),
            helpers=dict(answer.get("helpers") or {}),
            default_store=answer.get("default_store") or None,
        )

    @property
    def names_credentials(self) -> bool:
        """Whether the file configures any credentials (docker's ContainsAuth)."""
        return bool(self.creds_store or self.cred_helpers or self.auths)

    def store_for(self, registry: Registry) -> str:
        """The credential store docker uses for the registry: a helper's name, or "file"."""
        for key, helper in self.cred_helpers.items():
            if helper and config_key(key) == registry.key:
                return helper
        if self.creds_store:
            return self.creds_store
        if not self.names_credentials and self.default_store:
            return self.default_store
        return "file"

    def state(self, registry: Registry) -> LoginState:
        store = self.store_for(registry)
        if store == "file":
            entry = self.auths.get(registry.key)
            if entry is None:
                entry = next((e for k, e in self.auths.items() if config_key(k) == registry.key), None)
            if not entry or not (entry.get("auth") or entry.get("identity_token")):
                return LoginState(False, None, store)
            return LoginState(True, entry.get("user") or None, store, credential=_word(entry.get("credential")))
        if not self.names_credentials:
            # A pristine configuration: the helper docker would pick holds nothing of docker's yet.
            return LoginState(False, None, store)
        helper = self.helpers.get(store) or {}
        users = helper.get("users")
        credentials = helper.get("credentials") or {}
        if users is None:
            word = _word(credentials.get(registry.address))
            if word == "match":  # "list" failed, "get" found exactly the task's credentials
                return LoginState(True, None, store, credential=word)
            return LoginState(None, None, store, helper.get("error") or "the credential helper was not asked",
                              credential=word)
        for server, user in users.items():
            if config_key(server) == registry.key:
                return LoginState(True, user or None, store, credential=_word(credentials.get(server)))
        return LoginState(False, None, store)


def _word(value: Any) -> str | None:
    return value if value in CREDENTIAL_WORDS else None


def login_call(registry: Registry, username: str, password: str, environment: Mapping[str, str] | None = None) -> Call:
    """``docker login --password-stdin``: the password only ever on the call's stdin."""
    return Call(("login", "--username", username, "--password-stdin", END_OF_FLAGS, registry.address),
                stdin=password, environment=dict(environment) if environment else None)


def verify_login(host: Host, call: Call) -> CallResult:
    """Run a ``login_call`` with DOCKER_CONFIG in a new private directory on the host that is removed
    afterwards (``login_verify``): the registry checks the credentials, nothing is written."""
    request = host.call_request(call)
    request["stdin"] = call.stdin
    answer = host.execute("login_verify", {"call": request})
    result = answer.get("result") or {}
    return CallResult(call, int(result.get("rc", 1)), result.get("stdout") or "", result.get("stderr") or "")


# Docker's answer when a credential helper cannot use the Windows credential manager, as in
# WinRM and SSH sessions (docker/cli#1263, #4353).
LOGON_SESSION_ERROR = re.compile(r"logon session does not exist", re.IGNORECASE)

WINCRED_HINT = (
    "the credential helper cannot store credentials in a non-interactive remote session (WinRM, SSH); "
    "set config_path to a Docker configuration directory of the task's own: the module then keeps the "
    "credentials in that directory's config.json"
)


# --- registry manifests ----------------------------------------------------------------------

_LOOPBACK_NAMES = frozenset(("localhost",))
_NOT_FOUND = re.compile(r"no such manifest|manifest unknown|not found: manifest|name unknown|repository name not known",
                        re.IGNORECASE)
_UNAUTHORISED = re.compile(
    r"no basic auth credentials|unauthorized|forbidden|authentication required|denied|incorrect username or password",
    re.IGNORECASE)
_UNREACHABLE = re.compile(
    r"connection refused|no such host|i/o timeout|dial tcp|failed to configure transport|error pinging|"
    r"tls: |x509: |certificate|server gave HTTP response|connection reset|EOF|timeout|unreachable",
    re.IGNORECASE)


def registry_host(domain: str) -> str:
    """The host part of ``host[:port]`` or ``[ipv6]:port``."""
    if domain.startswith("["):
        return domain[1:domain.index("]")]
    return domain.rsplit(":", 1)[0] if domain.count(":") == 1 else domain


def is_loopback(domain: str) -> bool:
    """127.0.0.0/8 and localhost: registries every Docker daemon treats as insecure."""
    host = registry_host(domain)
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.version == 4 and address.is_loopback


def daemon_says_insecure(domain: str, registry_config: Mapping[str, Any] | None) -> bool:
    """Whether the daemon's RegistryConfig (``docker info``) marks the registry insecure."""
    if is_loopback(domain):
        return True
    if not registry_config:
        return False
    index = (registry_config.get("IndexConfigs") or {}).get(domain)
    if isinstance(index, Mapping) and index.get("Secure") is False:
        return True
    try:
        address = ipaddress.ip_address(registry_host(domain))
    except ValueError:
        return False
    for cidr in registry_config.get("InsecureRegistryCIDRs") or []:
        try:
            if address in ipaddress.ip_network(str(cidr), strict=False):
                return True
        except ValueError:
            continue
    return False


def registry_config_call() -> Call:
    return Call(("info", "--format", "{{json .RegistryConfig}}"))


def read_registry_config(result: CallResult) -> dict[str, Any] | None:
    if not result.ok:
        return None
    documents = json_documents(result.stdout)
    return documents[0] if documents and isinstance(documents[0], dict) else None


def manifest_call(reference: ImageReference, insecure: bool, environment: Mapping[str, str] | None = None) -> Call:
    """What the registry holds for the reference: ``docker manifest inspect --verbose``."""
    arguments = ["manifest", "inspect", "--verbose"]
    if insecure:
        # What the daemon does for these registries anyway: HTTP, or TLS without verification.
        arguments.append("--insecure")
    arguments += [END_OF_FLAGS, str(reference)]
    return Call(tuple(arguments), environment=dict(environment) if environment else None)


@dataclass(frozen=True)
class RemoteManifest:
    digest: str
    config_digest: str | None
    platform: dict[str, Any] = field(default_factory=dict)
    layers: tuple[dict[str, Any], ...] = ()

    @property
    def foreign_layers(self) -> int:
        """Layers marked non-distributable ("foreign"): pushes of Docker < 28 skipped their blobs."""
        return sum(1 for layer in self.layers if _is_foreign(layer))


def _is_foreign(layer: Mapping[str, Any]) -> bool:
    media_type = str(layer.get("mediaType") or "")
    return "foreign" in media_type or "nondistributable" in media_type


@dataclass(frozen=True)
class RemoteImage:
    """A tag in a registry: one manifest, or the entries of a manifest list (is_list)."""

    manifests: tuple[RemoteManifest, ...]
    is_list: bool

    @property
    def digest(self) -> str | None:
        """The tag's manifest digest (not known for a list: docker shows only its entries)."""
        if self.is_list or not self.manifests:
            return None
        return self.manifests[0].digest


def parse_manifest_output(text: str) -> RemoteImage:
    """Parse ``docker manifest inspect --verbose``: an object, or a list for a manifest list."""
    documents = json_documents(text)
    if not documents:
        raise ValueError("docker manifest inspect printed nothing")
    document = documents[0]
    entries = document if isinstance(document, list) else [document]
    manifests = []
    for entry in entries:
        descriptor = entry.get("Descriptor") or {}
        body = entry.get("SchemaV2Manifest") or entry.get("OCIManifest") or {}
        config = body.get("config") or {}
        manifests.append(RemoteManifest(
            digest=str(descriptor.get("digest") or ""),
            config_digest=config.get("digest"),
            platform=dict(descriptor.get("platform") or {}),
            layers=tuple(body.get("layers") or ()),
        ))
    return RemoteImage(tuple(manifests), isinstance(document, list))


def read_manifest(host_name: str, result: CallResult, reference: ImageReference) -> RemoteImage | None:
    """The registry's manifest(s) for the tag; ``None`` when the registry does not have the tag."""
    if result.ok:
        try:
            return parse_manifest_output(result.stdout)
        except (ValueError, AttributeError, TypeError) as exc:
            raise RegistryError("%s: could not read the manifest of %s: %s" % (host_name, reference, exc)) from exc
    detail = first_line(result.stderr) or first_line(result.stdout) or "exit code %d" % result.rc
    where = "registry %s" % registry_of(reference).display
    if _NOT_FOUND.search(detail) and not _UNAUTHORISED.search(detail):
        return None
    if _UNAUTHORISED.search(detail):
        raise RegistryError(
            "%s: the %s refused to show %s (authentication missing or not allowed; log in with "
            "wincontainers.images.docker_login, with the same config_path): %s" % (host_name, where, reference, detail))
    if _UNREACHABLE.search(detail):
        raise RegistryError("%s: the %s is not reachable: %s" % (host_name, where, detail))
    raise RegistryError("%s: could not ask the %s about %s: %s" % (host_name, where, reference, detail))


def repo_digests(image: Mapping[str, Any], reference: ImageReference) -> list[str]:
    """The digests of the image's RepoDigests entries for the reference's repository."""
    digests = []
    for entry in image.get("RepoDigests") or []:
        try:
            parsed = parse_reference(entry, "RepoDigests")
        except ValueError:
            continue
        if parsed.normalized_repository == reference.normalized_repository and parsed.digest:
            digests.append(parsed.digest)
    return digests


def registry_holds(image: Mapping[str, Any], remote: RemoteImage | None, reference: ImageReference,
                   platform: Platform | None = None) -> RemoteManifest | None:
    """The registry manifest that is this local image, if the tag holds it.

    A manifest is the image when its digest is one the local image was pushed or pulled as
    (RepoDigests of that repository), or when its config digest is the image ID (the same
    image, whatever the layers' compression). For a manifest list, any entry counts; with
    ``platform``, only the entries of that platform (what a pull of that platform would get).
    """
    if remote is None:
        return None
    known = set(repo_digests(image, reference))
    for manifest in remote.manifests:
        if platform is not None and remote.is_list and not same_platform(platform, manifest_platform(manifest)):
            continue
        if (not remote.is_list and manifest.digest in known) or manifest.config_digest == image.get("Id"):
            return manifest
    return None


def query_registry(
    host: Host,
    references: Sequence[ImageReference],
    environment: Mapping[str, str] | None,
    first_calls: Sequence[Call] = (),
) -> tuple[list[CallResult], dict[str, CallResult]]:
    """One exec: ``first_calls`` plus what the registry holds for each reference.

    Registries on 127.0.0.0/8 / localhost are asked with ``--insecure`` (the daemon treats them
    so); for others the daemon's RegistryConfig is read in the same exec, and a registry it
    marks insecure is asked again with ``--insecure`` (a second exec, only then).
    """
    need_info = any(not is_loopback(reference.domain) for reference in references)
    calls = list(first_calls)
    if need_info:
        calls.append(registry_config_call())
    calls += [manifest_call(reference, is_loopback(reference.domain), environment)
              for reference in references]
    results = host.run(calls, parallel=4)
    first = results[:len(first_calls)]
    rest = results[len(first_calls):]
    config = None
    if need_info:
        raise_for_engine(host, [rest[0]])
        config = read_registry_config(rest[0])
        rest = rest[1:]
    remote = {str(reference): result for reference, result in zip(references, rest)}
    again = [reference for reference in references
             if not is_loopback(reference.domain) and daemon_says_insecure(reference.domain, config)]
    if again:
        retried = host.run([manifest_call(reference, True, environment) for reference in again], parallel=4)
        remote.update({str(reference): result for reference, result in zip(again, retried)})
    return first, remote


# --- platforms -----------------------------------------------------------------------------
#
# A platform is compared the way Docker resolves ``--platform`` (containerd's ``platforms``
# package: ``Parse`` and ``Normalize`` in platforms.go and database.go): one word is an OS when
# it is a known GOOS, otherwise an architecture when it is a known GOARCH, and the missing part
# is the engine's own; architectures have aliases (x86_64 and x86-64 are amd64, aarch64 is arm64,
# i386 is 386, armhf is arm/v7, armel is arm/v6); variants are normalised (arm64/v8 is arm64,
# amd64/v1 is amd64, arm alone is arm/v7, "7" is "v7").

_PLATFORM = re.compile(
    r"^(?P<os>[a-z0-9_-]+)(?:\((?P<osversion>[0-9.]+)\))?(?:/(?P<arch>[a-z0-9_-]+)(?:/(?P<variant>[a-z0-9_.-]+))?)?$")
# Go's GOOS and GOARCH values, as containerd's database.go lists them (isKnownOS, isKnownArch).
KNOWN_OS = frozenset(("aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux",
                      "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos"))
KNOWN_ARCH = frozenset(("386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "loong64", "mips", "mipsle",
                        "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "ppc64", "ppc64le", "riscv", "riscv64",
                        "s390", "s390x", "sparc", "sparc64", "wasm"))


@dataclass(frozen=True)
class Platform:
    """A platform; ``os`` or ``arch`` is None when the text named only the other one."""

    os: str | None
    arch: str | None
    variant: str  # "" when none (after normalisation)
    os_version: str | None = None

    def __str__(self) -> str:
        return "/".join(part for part in (self.os or "?", self.arch or "?", self.variant) if part)


def normalize_os(value: str) -> str:
    value = value.lower()
    return "darwin" if value == "macos" else value


def normalize_arch(arch: str, variant: str = "") -> tuple[str, str]:
    """containerd's normalizeArch: the canonical GOARCH and variant."""
    arch, variant = arch.lower(), (variant or "").lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        return "arm64", "" if variant in ("8", "v8", "v8.0") else variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if variant in ("", "7"):
            return "arm", "v7"
        if variant in ("5", "6", "8"):
            return "arm", "v" + variant
    return arch, variant


def parse_platform(value: Any, option: str = "platform") -> Platform:
    """``os[(osversion)][/arch[/variant]]`` or an architecture alone, as docker's --platform takes it."""
    text = value.strip().lower() if isinstance(value, str) else None
    match = _PLATFORM.match(text) if text else None
    if match is None:
        raise OptionError("%s: %r is not a platform (expected os[/arch[/variant]] or an architecture, "
                          "e.g. windows/amd64, linux/arm64/v8, arm64)" % (option, value))
    os_name, arch, variant = match.group("os"), match.group("arch"), match.group("variant")
    if arch is None and match.group("osversion") is None:
        if normalize_os(os_name) in KNOWN_OS:
            return Platform(normalize_os(os_name), None, "")
        arch, variant = normalize_arch(os_name)
        if arch in KNOWN_ARCH:
            return Platform(None, arch, "" if arch == "arm" and variant == "v7" else variant)
        raise OptionError("%s: %r is neither a known operating system nor a known architecture (%s; %s)"
                          % (option, value, ", ".join(sorted(KNOWN_OS)), ", ".join(sorted(KNOWN_ARCH))))
    os_name = normalize_os(os_name)
    if os_name not in KNOWN_OS:
        raise OptionError("%s: %r names an unknown operating system %r (%s)" % (option, value, os_name, ", ".join(sorted(KNOWN_OS))))
    if arch is None:
        return Platform(os_name, None, "", match.group("osversion"))
    given_variant = variant is not None
    arch, variant = normalize_arch(arch, variant or "")
    if arch not in KNOWN_ARCH:
        raise OptionError("%s: %r names an unknown architecture %r (%s)" % (option, value, arch, ", ".join(sorted(KNOWN_ARCH))))
    if not given_variant and arch == "arm" and variant == "v7":
        variant = ""  # arm alone: any variant the engine picks, v7 by default
    return Platform(os_name, arch, variant, match.group("osversion"))


def check_platform(value: Any, option: str = "platform") -> str | None:
    """The platform text for docker's --platform, checked (``parse_platform``) before it is sent."""
    if value is None:
        return None
    parse_platform(value, option)
    return value.strip().lower()


def engine_platform_call() -> Call:
    """The engine's own OS and architecture (``docker version``: Go's GOOS and GOARCH names)."""
    return Call(("version", "--format", "{{json .Server}}"))


def read_engine_platform(result: CallResult) -> tuple[str | None, str | None]:
    """(OS, architecture) of the engine, (None, None) when it could not be read."""
    documents = json_documents(result.stdout) if result.ok else []
    server = documents[0] if documents and isinstance(documents[0], dict) else {}
    os_name, arch = server.get("Os"), server.get("Arch")
    return (normalize_os(os_name) if isinstance(os_name, str) and os_name else None,
            normalize_arch(arch)[0] if isinstance(arch, str) and arch else None)


def needs_engine_platform(platform: str | None) -> bool:
    """Whether comparing with ``platform`` needs the engine's OS or architecture."""
    if not platform:
        return False
    parsed = parse_platform(platform)
    return parsed.os is None or parsed.arch is None


def resolve_platform(platform: str, engine_os: str | None = None, engine_arch: str | None = None) -> Platform:
    """The platform with the missing OS or architecture taken from the engine, as docker does."""
    parsed = parse_platform(platform)
    return Platform(parsed.os or engine_os, parsed.arch or engine_arch, parsed.variant, parsed.os_version)


def image_platform(image: Mapping[str, Any]) -> Platform:
    arch, variant = normalize_arch(str(image.get("Architecture") or ""), str(image.get("Variant") or ""))
    return Platform(normalize_os(str(image.get("Os") or "")), arch, variant)


def same_platform(wanted: Platform, actual: Platform) -> bool:
    """Whether ``actual`` (an image's, a manifest's) is ``wanted``; a part that is not known is not compared."""
    if wanted.os is not None and wanted.os != actual.os:
        return False
    if wanted.arch is not None and wanted.arch != actual.arch:
        return False
    if wanted.variant and wanted.variant != actual.variant:
        return False
    return True


def platform_matches(image: Mapping[str, Any], platform: str | None,
                     engine_os: str | None = None, engine_arch: str | None = None) -> bool:
    """Whether a local image (inspect object) is of the platform asked for."""
    if not platform:
        return True
    return same_platform(resolve_platform(platform, engine_os, engine_arch), image_platform(image))


def manifest_platform(manifest: RemoteManifest) -> Platform:
    arch, variant = normalize_arch(str(manifest.platform.get("architecture") or ""), str(manifest.platform.get("variant") or ""))
    return Platform(normalize_os(str(manifest.platform.get("os") or "")), arch, variant)


# --- search ----------------------------------------------------------------------------------

SEARCH_LIMIT_MAX = 100


def search_call(term: str, limit: int, is_official: bool | None, stars: int | None) -> Call:
    arguments = ["search", "--format", "{{json .}}", "--no-trunc", "--limit", str(limit)]
    if is_official is not None:
        arguments += ["--filter", "is-official=%s" % ("true" if is_official else "false")]
    if stars is not None:
        arguments += ["--filter", "stars=%d" % stars]
    arguments += [END_OF_FLAGS, term]
    return Call(tuple(arguments))


def _as_bool(value: Any) -> bool:
    """IsOfficial: a bool in current CLIs, "[OK]" or "" in older ones."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    text = str(value or "").strip().lower()
    return text in ("[ok]", "true", "ok", "yes", "1")


def _as_int(value: Any) -> int:
    """StarCount: an int in current CLIs, a string in older ones."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value or "0").strip().replace(",", "")
    try:
        return int(float(text))
    except ValueError:
        return 0


def parse_search_output(text: str) -> list[dict[str, Any]]:
    """One result per JSON line of ``docker search --format '{{json .}}'``."""
    results = []
    for document in json_documents(text):
        if not isinstance(document, Mapping):
            continue
        results.append({
            "name": str(document.get("Name") or ""),
            "description": str(document.get("Description") or ""),
            "stars": _as_int(document.get("StarCount")),
            "official": _as_bool(document.get("IsOfficial")),
        })
    return results
