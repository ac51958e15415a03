# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operations that exist on Windows hosts only (the Containers feature's OS image cmdlets,
PackageManagement providers): a Linux host answers that it cannot do them.
"""
# wincontainers.images: program text below

import json
import sys

if __name__ == "__main__":
    sys.stdout.write(json.dumps({"error": {"kind": "unsupported",
                                           "message": "this operation needs a Windows host"}}) + "\n")
