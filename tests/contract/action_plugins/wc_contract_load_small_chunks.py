# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only action plugin of the transport contract tests, not part of the collection.

wincontainers.images.docker_image_load as it is, with chunks of 4 KiB instead of 64 MiB, so
that a small test archive travels as several ``put_file`` calls and is joined on the host.
"""

from __future__ import annotations

from ansible_collections.wincontainers.images.plugins.action.docker_image_load import ActionModule as LoadAction


class ActionModule(LoadAction):
    CHUNK_SIZE = 4096
