# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Writing files atomically (a temporary file, then File.Move, or File.Replace over an existing one),
# and the host clock as the requests and answers carry it (seconds since the Unix epoch).

function Move-File {
    param([string]$From, [string]$To)
    if ([IO.File]::Exists($To)) { [IO.File]::Replace($From, $To, [NullString]::Value) } else { [IO.File]::Move($From, $To) }
}

function Write-Atomically {
    param([string]$Path, $Value)
    [IO.File]::WriteAllText("$Path.tmp", (ConvertTo-Json -InputObject $Value -Depth 6 -Compress), $Utf8)
    Move-File -From "$Path.tmp" -To $Path
}

function Get-UnixTime {
    return ([DateTime]::UtcNow - [DateTime]'1970-01-01').TotalSeconds
}
