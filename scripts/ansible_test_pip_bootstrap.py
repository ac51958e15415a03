# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for the pip bootstrap script ansible-test downloads.

ansible-test creates its sanity-test virtual environments without pip and then runs
``get-pip-<version>.py`` from ``https://ci-files.testing.ansible.com/``, which is unreachable
here. It first looks for ``~/.ansible/test/cache/get_pip_<version>.py``; scripts/sanity.sh
copies this file there.

ansible-test runs it as ``__main__`` inside the new (pip-less) environment with pip-style
arguments, e.g. ``--disable-pip-version-check pip==25.2 --no-setuptools --no-wheel``. This
stand-in imports pip from the wheel that the interpreter's own ``ensurepip`` bundles and uses
it to run ``pip install`` with those arguments (the requested pip then comes from the package
index, like any other package). Written for wincontainers.images; not derived from get-pip.py.
"""

from __future__ import annotations

import glob
import os
import sys

# Options that only the real get-pip.py understands; pip itself would reject them.
_GET_PIP_ONLY = {"--no-setuptools", "--no-wheel", "--no-pip"}


def _bundled_pip_wheel() -> str:
    """Path of the pip wheel shipped inside this interpreter's ensurepip package."""
    import ensurepip

    bundled = os.path.join(os.path.dirname(ensurepip.__file__), "_bundled")
    wheels = sorted(glob.glob(os.path.join(bundled, "pip-*.whl")))
    if not wheels:
        raise SystemExit(f"pip bootstrap stand-in: no pip wheel in {bundled} (ensurepip is incomplete)")
    return wheels[-1]


def main() -> None:
    args = [arg for arg in sys.argv[1:] if arg not in _GET_PIP_ONLY]
    sys.path.insert(0, _bundled_pip_wheel())  # pip runs from a wheel on sys.path
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    sys.exit(pip_main(["install", *args]))


if __name__ == "__main__":
    main()
