# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Files of the image archive modules (docker_image_export / docker_image_load), in one exec:
# remove and rename files, report files (exists, kind, size, sha256 when asked), then run
# program calls, each optionally only when a reported file exists. A missing executable
# (tar.exe on Windows Server 2016) is reported per call ("not_found"), not as an error.

function Get-FileState {
    param([string]$Path, [bool]$Hash)
    $state = [ordered]@{ path = $Path; exists = $false; kind = $null; size = $null; sha256 = $null }
    if (Test-Path -LiteralPath $Path -PathType Container) {
        $state.exists = $true
        $state.kind = 'directory'
    } elseif (Test-Path -LiteralPath $Path -PathType Leaf) {
        $state.exists = $true
        $state.kind = 'file'
        $state.size = (Get-Item -LiteralPath $Path -Force).Length
        if ($Hash) { $state.sha256 = (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant() }
    }
    return $state
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    foreach ($path in @($request.remove)) {
        if ($path -and (Test-Path -LiteralPath $path -PathType Leaf)) { Remove-Item -LiteralPath $path -Force }
    }
    foreach ($move in @($request.rename)) {
        if (-not $move) { continue }
        if (Test-Path -LiteralPath $move.to -PathType Leaf) {
            [IO.File]::Replace([string]$move.from, [string]$move.to, [NullString]::Value)
        } else {
            [IO.File]::Move([string]$move.from, [string]$move.to)
        }
    }
    $files = @()
    foreach ($file in @($request.files)) {
        if ($file) { $files += Get-FileState -Path $file.path -Hash ([bool]$file.hash) }
    }
    $results = @()
    foreach ($call in @($request.calls)) {
        if (-not $call) { continue }
        if ($null -ne $call.if_exists -and $files[[int]$call.if_exists].kind -ne 'file') {
            $results += [ordered]@{ rc = 0; stdout = ''; stderr = ''; skipped = $true }
            continue
        }
        $exe = Resolve-Executable -Name $call.exe
        if (-not $exe) {
            $results += [ordered]@{ rc = -1; stdout = ''; stderr = ''; skipped = $true; not_found = $true }
            continue
        }
        $started = Start-Call -Path $exe -CommandLine ([string]$call.cmdline) -Stdin $call.stdin -Environment $call.env
        $results += Complete-Call -Started $started
    }
    Write-Answer @{ files = $files; results = $results; error = $null }
} catch {
    Write-Answer @{ files = @(); results = @(); error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
