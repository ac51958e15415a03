# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# What the job scripts share besides the root (job_root.ps1): Get-LiveProcess gives the process a
# "<pid> <start time ticks>" line names while it runs, so a reused PID is never taken for the
# runner (-Pin: with a handle open first, which keeps the PID from being reused before the process
# is stopped; that asks for all access, so liveness alone only asks what Process.StartTime needs);
# Read-Shared reads a file another process may still be writing.

function Get-LiveProcess {
    param([string]$Line, [switch]$Pin)
    if ($Line -notmatch '^(\d+) (\d+)') { return $null }
    try {
        $process = [Diagnostics.Process]::GetProcessById([int]$Matches[1])
        if ($Pin) { $null = $process.Handle }
        if ($process.StartTime.ToUniversalTime().Ticks -eq [long]$Matches[2]) { return $process }
    } catch { $null = $_ }
    return $null
}

function Read-Shared {
    # Reads a file another process may still be writing; keeps the last $Limit characters.
    param([string]$Path, [int]$Limit = 262144)
    if (-not [IO.File]::Exists($Path)) { return '' }
    $stream = [IO.File]::Open($Path, 'Open', 'Read', 'ReadWrite')
    try {
        $reader = New-Object -TypeName System.IO.StreamReader -ArgumentList $stream, $Utf8
        $text = $reader.ReadToEnd()
    } finally {
        $stream.Dispose()
    }
    if ($text.Length -gt $Limit) { $text = $text.Substring($text.Length - $Limit) }
    return $text
}
