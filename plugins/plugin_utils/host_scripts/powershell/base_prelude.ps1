# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Functions every script uses: the answer, the request, and the executables, which are chosen
# from a fixed table, never named by the request (the request only says "docker" or "tar").

$ErrorActionPreference = 'Stop'
$Utf8 = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
try { [Console]::OutputEncoding = $Utf8 } catch { $null = $_ }

function Write-Answer {
    param($Answer)
    $json = ConvertTo-Json -InputObject $Answer -Compress -Depth 8
    $ascii = [regex]::Replace($json, '[^\x00-\x7F]', {
        param($m)
        '\u{0:x4}' -f [int][char]$m.Value
    })
    Write-Output $ascii
}

function ConvertFrom-Request {
    # The script's own $input is passed in: inside a function $input is the function's.
    param([object[]]$Lines)
    $text = @($Lines) -join "`n"
    if (-not $text.Trim()) { throw 'the request line on stdin is empty' }
    ConvertFrom-Json -InputObject $text
}

function Resolve-Executable {
    param([string]$Name)
    $known = @{
        docker = @("$env:ProgramFiles\Docker\docker.exe", "$env:ProgramFiles\Docker\Docker\resources\bin\docker.exe")
        tar = @("$env:SystemRoot\System32\tar.exe")
        powershell = @("$PSHOME\powershell.exe")
    }
    if (-not $known.ContainsKey($Name)) { throw "unknown executable '$Name'" }
    $found = Get-Command -Name "$Name.exe" -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($found) { return $found.Path }
    foreach ($candidate in $known[$Name]) {
        if (Test-Path -LiteralPath $candidate -PathType Leaf) { return $candidate }
    }
    return $null
}
