# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of win_container_engine: versions, checksums, daemon.json merges, feature states
and the service registration (plugins/plugin_utils/container_engine.py)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.wincontainers.images.plugins.plugin_utils import container_engine as ce
from ansible_collections.wincontainers.images.plugins.plugin_utils.windows_args import join_arguments

# The shape of download.docker.com's directory listing of win/static/stable/x86_64/ (an HTML
# index with one link per file), shortened.
INDEX = """<html><head><title>Index of win/static/stable/x86_64/</title></head><body><h1>Index</h1><pre>
<a href="../">../</a>
<a href="docker-17.09.0-ce.zip">docker-17.09.0-ce.zip</a>   2017-09-27 ...
<a href="docker-19.03.9.zip">docker-19.03.9.zip</a>        2020-05-15 ...
<a href="docker-27.5.1.zip">docker-27.5.1.zip</a>          2025-01-22 ...
<a href="docker-27.10.0.zip">docker-27.10.0.zip</a>        (a made-up later minor)
<a href="docker-28.0.0-rc.1.zip">docker-28.0.0-rc.1.zip</a>
<a href="docker-rootless-extras-27.5.1.tgz">docker-rootless-extras-27.5.1.tgz</a>
</pre></body></html>"""


def test_latest_is_the_newest_release_by_number_not_by_text():
    assert ce.latest_from_index(INDEX) == "27.10.0"


def test_latest_ignores_pre_releases_and_other_files():
    assert ce.latest_from_index('<a href="docker-28.0.0-rc.1.zip">x</a> <a href="other-29.0.0.zip">') is None
    assert ce.latest_from_index("") is None


def test_a_mirror_with_absolute_links_is_read_too():
    assert ce.latest_from_index("<a href='/mirror/docker/docker-26.1.3.zip'>docker-26.1.3.zip</a>") == "26.1.3"


@pytest.mark.parametrize("value, expected", [("27.5.1", "27.5.1"), (" 27.5.1 ", "27.5.1"), ("latest", "latest"),
                                             ("LATEST", "latest")])
def test_versions_accepted(value, expected):
    assert ce.check_version(value) == expected


@pytest.mark.parametrize("value", ["27.5", "v27.5.1", "27.05.1", "27.5.1-rc.1", "27.5.1; rm", ""])
def test_versions_refused_name_the_option(value):
    with pytest.raises(ce.EngineError, match="^version: "):
        ce.check_version(value)


def test_installed_version_comes_from_dockerd_version_output():
    assert ce.installed_version("Docker version 27.5.1, build 4c9b3b0\r\n") == "27.5.1"
    assert ce.installed_version("") is None
    assert ce.installed_version(None) is None


def test_checksum_forms():
    digest = "AB" * 32
    assert ce.check_checksum(digest) == digest.lower()
    assert ce.check_checksum("sha256:" + digest) == digest.lower()
    assert ce.check_checksum(None) is None
    with pytest.raises(ce.EngineError, match="^checksum: "):
        ce.check_checksum("md5:" + digest)
    with pytest.raises(ce.EngineError, match="^checksum: "):
        ce.check_checksum("ab" * 31)


def test_url_is_a_directory():
    assert ce.check_url("https://mirror.example.com/docker") == "https://mirror.example.com/docker/"
    assert ce.check_url(ce.DEFAULT_URL) == ce.DEFAULT_URL
    with pytest.raises(ce.EngineError, match="^url: "):
        ce.check_url("ftp://mirror.example.com/")


def test_version_of_an_archive_name():
    assert ce.version_of_archive("\\\\files\\docker\\docker-27.5.1.zip") == "27.5.1"
    assert ce.version_of_archive("C:\\x\\Docker-26.1.3.ZIP") == "26.1.3"
    assert ce.version_of_archive("C:\\x\\engine.zip") is None


@pytest.mark.parametrize("raw, state", [
    ("Installed", ce.INSTALLED), ("InstallPending", ce.PENDING), ("Available", ce.MISSING), ("Removed", ce.MISSING),
    ("UninstallPending", ce.REMOVING), ("Enabled", ce.INSTALLED), ("EnablePending", ce.PENDING),
    ("Disabled", ce.MISSING), ("DisabledWithPayloadRemoved", ce.MISSING), ("DisablePending", ce.REMOVING),
    (None, ce.UNKNOWN), ("Staged", ce.UNKNOWN),
])
def test_feature_states_of_both_cmdlet_families(raw, state):
    assert ce.feature_state(raw) == state


@pytest.mark.parametrize("raw, needed", [("Yes", True), ("Maybe", True), ("No", False), (True, True), (False, False),
                                         ("True", True), ("False", False)])
def test_restart_needed_values(raw, needed):
    assert ce.restart_needed(raw) is needed


# --- the service ------------------------------------------------------------------------------


def test_registration_matches_what_dockerd_register_service_writes():
    path = '"C:\\Program Files\\Docker\\dockerd.exe" --run-service'
    assert ce.registration_matches(path, "C:\\Program Files\\Docker", [])
    assert ce.registration_matches(path.lower(), "C:\\Program Files\\Docker", [])
    assert not ce.registration_matches(path, "C:\\Program Files\\Docker", ["--data-root", "D:\\docker"])
    assert not ce.registration_matches(path, "D:\\Docker", [])
    assert not ce.registration_matches('"C:\\Program Files\\Docker\\dockerd.exe"', "C:\\Program Files\\Docker", [])
    assert not ce.registration_matches(None, "C:\\Program Files\\Docker", [])


def test_registration_with_flags_round_trips_through_windows_quoting():
    flags = ce.service_flags("D:\\docker data")
    path = '"C:\\Program Files\\Docker\\dockerd.exe" ' + join_arguments(["--run-service"] + flags)
    assert ce.registration_matches(path, "C:\\Program Files\\Docker", flags)
    assert ce.register_arguments(flags) == '--register-service --data-root "D:\\docker data"'


@pytest.mark.parametrize("line, argv", [
    ('"C:\\a b\\x.exe" --y', ["C:\\a b\\x.exe", "--y"]),
    ('x.exe "a \\"b\\"" c\\\\d', ["x.exe", 'a "b"', "c\\\\d"]),
    ('x.exe "tail\\\\" z', ["x.exe", "tail\\", "z"]),
])
def test_command_line_split(line, argv):
    assert ce.split_command_line(line) == argv


# --- daemon.json --------------------------------------------------------------------------------


def test_merge_replaces_top_level_keys_and_removes_nulls():
    current = {"debug": True, "registry-mirrors": ["https://a"], "group": "docker-users"}
    merged = ce.merge_daemon_config(current, {"registry-mirrors": ["https://b"], "group": None, "log-level": "warn"})
    assert merged == {"debug": True, "registry-mirrors": ["https://b"], "log-level": "warn"}
    assert current["group"] == "docker-users"  # not modified in place


def test_merge_into_a_missing_file():
    assert ce.merge_daemon_config(None, {"debug": False}) == {"debug": False}


def test_unknown_keys_are_named_before_anything_changes():
    with pytest.raises(ce.EngineError) as caught:
        ce.check_daemon_config({"registry-mirror": [], "debug": True, "bip": "x"}, [])
    assert "unknown daemon.json keys bip, registry-mirror" in str(caught.value)
    assert "nothing was changed" in str(caught.value)


def test_a_key_also_given_as_a_service_flag_is_refused():
    with pytest.raises(ce.EngineError, match="data-root is also given as a flag"):
        ce.check_daemon_config({"data-root": "E:\\d"}, ce.service_flags("D:\\docker"))
    assert ce.check_daemon_config({"data-root": None}, ce.service_flags("D:\\docker")) == {"data-root": None}


def test_daemon_config_must_be_a_dictionary():
    with pytest.raises(ce.EngineError, match="^daemon_config: must be a dictionary"):
        ce.check_daemon_config(["debug"], [])


def test_invalid_json_on_the_host_is_reported_with_its_path():
    with pytest.raises(ce.EngineError, match=r"C:\\ProgramData\\docker\\config\\daemon.json on the host is not valid JSON"):
        ce.parse_daemon_json('{"debug": true,}', "C:\\ProgramData\\docker\\config\\daemon.json")
    with pytest.raises(ce.EngineError, match="holds a JSON list"):
        ce.parse_daemon_json("[]", "p")


def test_daemon_json_read_with_a_bom_and_empty():
    assert ce.parse_daemon_json('\ufeff{"debug": true}', "p") == {"debug": True}
    assert ce.parse_daemon_json("  ", "p") == {}
    assert ce.parse_daemon_json(None, "p") is None


def test_rendering_is_stable_so_a_second_run_compares_equal():
    config = {"registry-mirrors": ["https://b"], "debug": True}
    text = ce.render_daemon_json(config)
    assert json.loads(text) == config
    assert text == ce.render_daemon_json(dict(reversed(list(config.items()))))
    assert text.endswith("\n") and text.isascii()


def test_daemon_json_location_follows_the_data_root():
    assert ce.daemon_json_path("D:\\docker") == "D:\\docker\\config\\daemon.json"


# --- the read -------------------------------------------------------------------------------------


def test_engine_facts_from_an_answer():
    facts = ce.EngineFacts.from_answer({
        "features": {"kind": "server", "containers": "Installed", "hyperv": "Available"},
        "reboot": {"pending": False, "reasons": []},
        "install_dir": "C:\\Program Files\\Docker",
        "dockerd": "Docker version 26.1.3, build b72abbb\r\n",
        "service": {"exists": True, "state": "Running", "start_mode": "Auto",
                    "path_name": '"C:\\Program Files\\Docker\\dockerd.exe" --run-service'},
        "engine": {"rc": 0, "stdout": '"26.1.3"\n', "stderr": ""},
        "data_root": "C:\\ProgramData\\docker",
        "daemon_json": {"path": "C:\\ProgramData\\docker\\config\\daemon.json", "exists": True, "text": "{}"},
    })
    assert facts.version == "26.1.3" and facts.engine_answers and facts.server_version == "26.1.3"
    assert facts.running and facts.automatic
    assert facts.containers == ce.INSTALLED and facts.hyperv == ce.MISSING
    public = facts.public()
    assert public["daemon_config"] == {} and public["reboot_pending"] is False and public["version"] == "26.1.3"


def test_an_engine_that_does_not_answer():
    facts = ce.EngineFacts.from_answer({"engine": {"rc": 1, "stdout": "", "stderr": "error during connect"},
                                        "features": {"containers": "InstallPending"}})
    assert not facts.engine_answers and facts.engine_error == "error during connect"
    assert facts.public()["reboot_pending"] is True


def test_archive_zip_layout_made_for_real(tmp_path):
    # The layout the static binaries zip has (docker/docker.exe, docker/dockerd.exe): made with
    # zipfile here, read back the way the fake host's extraction does.
    import zipfile

    path = tmp_path / "docker-27.5.1.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("docker/docker.exe", b"MZ client")
        archive.writestr("docker/dockerd.exe", b"MZ daemon")
    assert ce.version_of_archive(str(path)) == "27.5.1"
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["docker/docker.exe", "docker/dockerd.exe"]
