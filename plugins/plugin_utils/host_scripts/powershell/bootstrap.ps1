# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The command line of every exec (powershell_scripts.BOOTSTRAP, sent as -EncodedCommand): runs
# the script of the first input line with the remaining lines as its input. A failure to even
# start the script is answered in the same JSON form as the scripts' own errors. One line: the
# comment lines above are not sent.
$ErrorActionPreference = 'Stop'; $lines = @((@($input) -join [char]10) -split '\r?\n'); try { $script = [ScriptBlock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($lines[0]))) } catch { Write-Output ('{"results":[],"error":{"kind":"exception","message":"bootstrap: ' + ($_.Exception.Message -replace '[^ -~]', '?' -replace '[\\"]', "'") + '"}}'); exit 1 }; $lines | Select-Object -Skip 1 | & $script
