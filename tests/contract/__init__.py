# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# A package, so that test module names here (test_docker_image_info, ...) cannot collide with
# modules of the same name in tests/integration or tests/unit. The harness modules are imported
# as top-level modules: conftest.py puts this directory on sys.path.
