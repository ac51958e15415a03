# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# What powershell.exe runs in win_container_engine's detached job (as -EncodedCommand): the
# engine_job script from the job's environment variable WC_ENGINE_SCRIPT, deflated and in base64
# as bootstrap.ps1 receives every script (powershell_scripts.PAYLOADS["engine_job"], a constant
# the controller puts there; never text a user wrote). One line: the comment lines are not sent.
$ErrorActionPreference = 'Stop'; & ([ScriptBlock]::Create([IO.StreamReader]::new([IO.Compression.DeflateStream]::new([IO.MemoryStream]::new([Convert]::FromBase64String($env:WC_ENGINE_SCRIPT)), 'Decompress')).ReadToEnd()))
