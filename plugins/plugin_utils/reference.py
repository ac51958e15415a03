# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image references and image IDs, checked on the controller before anything reaches a host.

The rules are those of the Docker engine (the ``distribution/reference`` grammar):

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path
    domain     := host [ ":" port ]          host: DNS-like name, IPv4, or "[" IPv6 "]"
    path       := component ( "/" component )*
    component  := [a-z0-9]+ ( separator [a-z0-9]+ )*     separator: ".", "_", "__", "-"+
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex       (sha256: 64, sha384: 96, sha512: 128 lowercase hex)

The first "/"-separated part of a name is a registry only when it contains "." or ":" or is
"localhost"; otherwise the image is on Docker Hub ("docker.io"), where a one-part path lives
under "library/". Errors name the Ansible option and the offending value.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"

# Longest name (registry, "/" and path, after normalisation) that every engine accepts.
NAME_TOTAL_LENGTH_MAX = 255
TAG_LENGTH_MAX = 128
SHORT_ID_LENGTH = 12

# Lengths of the hex part of the digests the engine can verify.
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_PATH_CHARS = re.compile(r"[a-z0-9._-]+")
_SEPARATOR_RUN = re.compile(r"[._-]+")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_DOMAIN_CHARS = re.compile(r"[A-Za-z0-9-]+")
_IPV6_BODY = re.compile(r"[A-Fa-f0-9:]+")
_PORT = re.compile(r"[0-9]+")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,%d}" % (TAG_LENGTH_MAX - 1))
_TAG_CHARS = re.compile(r"[A-Za-z0-9_.-]+")
_DIGEST_ALGORITHM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*")
_HEX = re.compile(r"[0-9a-f]+")
_FULL_ID = re.compile(r"(?:sha256:)?([0-9a-f]{64})")
_SHORT_ID = re.compile(r"(?:sha256:)?([0-9a-f]{1,63})")


class ReferenceError(ValueError):  # pylint: disable=redefined-builtin
    """An option value that is not a valid image reference, tag or image ID.

    The message reads "<option>: <value!r> is not a valid <what>: <reason>".
    """

    def __init__(self, option: str, value: Any, reason: str, what: str = "image reference") -> None:
        self.option = option
        self.value = str(value) if isinstance(value, str) else repr(value)
        self.reason = reason
        self.what = what
        super().__init__("%s: %s is not a valid %s: %s" % (option, _show(value), what, reason))

    def __reduce__(self) -> tuple[Any, ...]:
        # For pickle and copy: the constructor's arguments are not the exception's args.
        return _restore_error, (self.__class__, self.args, self.__dict__)


def _restore_error(cls: type[ReferenceError], args: tuple[Any, ...], state: dict[str, Any]) -> ReferenceError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


def _show(value: Any) -> str:
    """The value as the message shows it: a plain repr, also for str subclasses."""
    if isinstance(value, str):
        return repr(str(value))
    return repr(value)


class _Invalid(Exception):
    """A reason, raised inside the parsers and turned into a ReferenceError at the edge."""


@dataclasses.dataclass(frozen=True)
class ImageReference:
    """A parsed, normalised image reference. Build it with parse_reference()."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def registry_host(self) -> str:
        """The registry, with its port if any ("docker.io" for Docker Hub)."""
        return self.domain

    @property
    def normalized_repository(self) -> str:
        """The full repository name, e.g. "docker.io/library/busybox"."""
        return "%s/%s" % (self.domain, self.path)

    @property
    def repository(self) -> str:
        """The repository as the engine prints it in RepoTags, e.g. "busybox" or "user/app".

        Docker Hub's "docker.io/" stays when dropping it would make the first path component
        read as a registry (as in "docker.io/example.com/app"), so the text always parses back
        to the same reference.
        """
        if self.domain != DEFAULT_DOMAIN:
            return self.normalized_repository
        path = self.path
        if path.startswith(OFFICIAL_REPO_PREFIX) and "/" not in path[len(OFFICIAL_REPO_PREFIX):]:
            return path[len(OFFICIAL_REPO_PREFIX):]
        if _looks_like_domain(path.partition("/")[0]):
            return self.normalized_repository
        return path

    @property
    def normalized(self) -> str:
        """The full form, e.g. "docker.io/library/busybox:latest"."""
        return self._with_suffix(self.normalized_repository)

    def __str__(self) -> str:
        return self._with_suffix(self.repository)

    def _with_suffix(self, name: str) -> str:
        if self.tag is not None:
            name += ":" + self.tag
        if self.digest is not None:
            name += "@" + self.digest
        return name

    def with_tag(self, tag: str) -> ImageReference:
        """The same reference with another tag (the digest, if any, stays)."""
        return dataclasses.replace(self, tag=parse_tag(tag, "tag"))

    def without_tag(self) -> ImageReference:
        """The same reference with neither tag nor digest."""
        return dataclasses.replace(self, tag=None, digest=None)


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """What an option naming a local image (by reference or by ID) holds."""

    text: str  # what to hand to "docker image inspect"
    reference: ImageReference | None  # None for full image IDs
    is_id: bool  # a full image ID ("sha256:" and 64 hex)
    may_be_id: bool  # the engine may resolve it as an image ID (full ID or short ID prefix)


def _check_text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("expected a string, got %s" % type(value).__name__)
    value = str(value)
    if not value:
        raise _Invalid("it is empty")
    for char in value:
        if char.isspace():
            raise _Invalid("it contains whitespace (%r)" % char)
        if not char.isprintable():
            raise _Invalid("it contains the control character %r" % char)
    return value


def _check_tag(tag: str) -> str:
    if not tag:
        raise _Invalid("the tag after ':' is empty")
    if len(tag) > TAG_LENGTH_MAX:
        raise _Invalid("the tag is %d characters long, the limit is %d" % (len(tag), TAG_LENGTH_MAX))
    if not _TAG.fullmatch(tag):
        bad = _first_bad_char(tag, _TAG_CHARS)
        if bad is not None:
            raise _Invalid("the tag %r contains %r (allowed: letters, digits, '_', '.', '-')" % (tag, bad))
        raise _Invalid("the tag %r must not start with '.' or '-'" % tag)
    return tag


def _check_digest(digest: str) -> str:
    if not digest:
        raise _Invalid("the digest after '@' is empty")
    algorithm, colon, hex_part = digest.partition(":")
    if not colon or not algorithm or not hex_part:
        raise _Invalid("the digest %r is not of the form 'sha256:<64 hex digits>'" % digest)
    if not _DIGEST_ALGORITHM.fullmatch(algorithm):
        raise _Invalid("the digest algorithm %r is malformed" % algorithm)
    length = DIGEST_HEX_LENGTHS.get(algorithm)
    if length is None:
        raise _Invalid("the digest algorithm %r is not supported (use sha256, sha384 or sha512)" % algorithm)
    if len(hex_part) != length or not _HEX.fullmatch(hex_part):
        raise _Invalid("a %s digest needs exactly %d lowercase hex digits after '%s:'" % (algorithm, length, algorithm))
    return digest


def _check_domain(domain: str) -> None:
    host, port = domain, None
    if domain.startswith("["):
        end = domain.find("]")
        if end < 0:
            raise _Invalid("the registry %r has no closing ']'" % domain)
        host, rest = domain[:end + 1], domain[end + 1:]
        if not _IPV6_BODY.fullmatch(host[1:-1]):
            raise _Invalid("the registry address %r is not a valid IPv6 address" % host)
        if rest:
            if not rest.startswith(":"):
                raise _Invalid("unexpected %r after the registry address %r" % (rest, host))
            port = rest[1:]
    else:
        if domain.count(":") > 1:
            raise _Invalid("the registry %r has more than one ':' (put an IPv6 address in '[...]')" % domain)
        if ":" in domain:
            host, port = domain.split(":", 1)
        if not host:
            raise _Invalid("the registry %r has no host name" % domain)
        for label in host.split("."):
            if not label:
                raise _Invalid("the registry host %r has an empty part ('..' or a leading or trailing '.')" % host)
            if not _DOMAIN_LABEL.fullmatch(label):
                bad = _first_bad_char(label, _DOMAIN_CHARS)
                if bad is not None:
                    raise _Invalid("the registry host %r contains %r" % (host, bad))
                raise _Invalid("the registry host %r has a part starting or ending with '-'" % host)
    if port is not None and not _PORT.fullmatch(port):
        raise _Invalid("the registry port %r is not a number" % port)


def _check_path(path: str) -> None:
    if not path:
        raise _Invalid("the repository path after the registry is empty")
    if any("A" <= char <= "Z" for char in path):
        raise _Invalid("repository names must be lowercase")
    if path.startswith("/"):
        raise _Invalid("the repository path must not start with '/'")
    if path.endswith("/"):
        raise _Invalid("the repository path must not end with '/'")
    if "//" in path:
        raise _Invalid("the repository path contains '//'")
    for component in path.split("/"):
        if _PATH_COMPONENT.fullmatch(component):
            continue
        bad = _first_bad_char(component, _PATH_CHARS)
        if bad is not None:
            raise _Invalid(
                "the repository path component %r contains %r "
                "(allowed: lowercase letters, digits, '.', '_', '-')" % (component, bad))
        if component[0] in "._-" or component[-1] in "._-":
            raise _Invalid("the repository path component %r must start and end with a letter or digit" % component)
        for run in _SEPARATOR_RUN.findall(component):
            if run not in (".", "_", "__") and set(run) != {"-"}:
                raise _Invalid(
                    "the repository path component %r has the separator %r "
                    "(allowed: '.', '_', '__' or one or more '-')" % (component, run))
        raise _Invalid("the repository path component %r is malformed" % component)  # pragma: no cover


def _first_bad_char(text: str, allowed: re.Pattern[str]) -> str | None:
    for char in text:
        if not allowed.fullmatch(char):
            return char
    return None


def _looks_like_domain(first: str) -> bool:
    """Whether the first "/"-separated part of a longer name is a registry."""
    return first == "localhost" or "." in first or ":" in first


def _split_name(name: str) -> tuple[str, str]:
    """Registry and path of a name; Docker Hub's are normalised."""
    first, slash, rest = name.partition("/")
    if slash and _looks_like_domain(first):
        domain, path = first, rest
    else:
        domain, path = DEFAULT_DOMAIN, name
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    return domain, path


def _parse(value: Any, default_tag: str | None) -> ImageReference:
    text = _check_text(value)
    if _FULL_ID.fullmatch(text):
        raise _Invalid("it is an image ID, not a repository name")
    name_tag, at, digest = text.partition("@")
    if at:
        if "@" in digest:
            raise _Invalid("it contains more than one '@'")
        digest = _check_digest(digest)
    # A tag follows the last ':' unless that ':' belongs to the registry (before the first '/').
    slash = name_tag.find("/")
    colon = name_tag.rfind(":")
    tag: str | None = None
    if colon > slash:
        name, tag = name_tag[:colon], name_tag[colon + 1:]
    else:
        name = name_tag
    if not name:
        raise _Invalid("the repository name is empty")
    domain, path = _split_name(name)
    _check_path(path)
    if domain != DEFAULT_DOMAIN:
        _check_domain(domain)
    if tag is not None:
        _check_tag(tag)
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_REPO_PREFIX + path
    full_name = "%s/%s" % (domain, path)
    if len(full_name) > NAME_TOTAL_LENGTH_MAX:
        raise _Invalid("the repository name %r is %d characters long, the limit is %d"
                       % (full_name, len(full_name), NAME_TOTAL_LENGTH_MAX))
    if tag is None and not digest:
        tag = default_tag
    return ImageReference(domain=domain, path=path, tag=tag, digest=digest or None)


def parse_reference(value: Any, option: str, default_tag: str | None = None) -> ImageReference:
    """Parse a reference such as "busybox", "mcr.microsoft.com/windows/servercore:ltsc2022".

    default_tag (e.g. "latest") is used only when the value has neither tag nor digest.
    Raises ReferenceError naming option and value.
    """
    if default_tag is not None:
        parse_tag(default_tag, "default_tag")
    try:
        return _parse(value, default_tag)
    except _Invalid as exc:
        raise ReferenceError(option, value, str(exc)) from None


def parse_tag(value: Any, option: str) -> str:
    """Check a bare tag such as "ltsc2022"; returns it as a plain str."""
    try:
        return _check_tag(_check_text(value))
    except _Invalid as exc:
        raise ReferenceError(option, value, str(exc), what="tag") from None


def is_full_image_id(value: Any) -> bool:
    """True for "sha256:<64 lowercase hex>" and a bare "<64 lowercase hex>"."""
    return isinstance(value, str) and _FULL_ID.fullmatch(value) is not None


def short_id(image_id: str) -> str:
    """The 12-character form of an image ID, without "sha256:" (as "docker images" shows)."""
    if not isinstance(image_id, str):
        raise TypeError("an image ID must be a string, got %s" % type(image_id).__name__)
    return str(image_id).rpartition(":")[2][:SHORT_ID_LENGTH]


def parse_image(value: Any, option: str) -> ImageSpec:
    """Parse what an option naming a local image accepts: a reference or an image ID.

    Full IDs ("sha256:<64 hex>" or bare "<64 hex>") become "sha256:<64 hex>". A short run of
    lowercase hex digits (optionally after "sha256:") is both a name and an ID prefix: the
    engine tries the name first, then the ID prefix, so may_be_id is set and the reference kept.
    """
    try:
        text = _check_text(value)
        full = _FULL_ID.fullmatch(text)
        if full:
            return ImageSpec(text="sha256:" + full.group(1), reference=None, is_id=True, may_be_id=True)
        if text.startswith("sha256:") and not _SHORT_ID.fullmatch(text):
            # The engine refuses to tag a repository called "sha256", so this can only be a
            # mistyped ID.
            raise _Invalid("an image ID is 'sha256:' followed by up to 64 lowercase hex digits")
        reference = _parse(text, None)
    except _Invalid as exc:
        raise ReferenceError(option, value, str(exc), what="image reference or ID") from None
    return ImageSpec(text=text, reference=reference, is_id=False,
                     may_be_id=_SHORT_ID.fullmatch(text) is not None)


def reference_matches(ref: ImageReference, repo_tag: Any) -> bool:
    """Whether an entry of RepoTags (or RepoDigests) names the image that ref names.

    Both sides are normalised ("busybox" == "docker.io/library/busybox"); a missing tag means
    "latest". When ref has a digest, only an entry with the same digest matches.
    """
    try:
        other = _parse(repo_tag, None)
    except _Invalid:
        return False
    if other.normalized_repository != ref.normalized_repository:
        return False
    if ref.digest is not None or other.digest is not None:
        return ref.digest == other.digest
    return (ref.tag or DEFAULT_TAG) == (other.tag or DEFAULT_TAG)


def ensure_taggable(ref: ImageReference, option: str) -> ImageReference:
    """Refuse what the engine refuses as the target of "docker tag".

    A target cannot carry a digest, and cannot be the repository "sha256" (it would read as an
    image ID).
    """
    if ref.digest is not None:
        raise ReferenceError(option, str(ref), "a tag target cannot have a digest")
    if ref.repository == "sha256":
        raise ReferenceError(option, str(ref), "the repository name 'sha256' would read as an image ID")
    return ref
