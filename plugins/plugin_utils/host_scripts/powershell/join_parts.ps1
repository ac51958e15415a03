# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# An archive copied from the controller in chunks (archive_copy.py): join the chunk files, in
# order, into the temporary file, checking each chunk's sha256 and the whole's; remove each chunk
# file once appended; rename the temporary file to the target only when the whole has the
# expected sha256 and size (so a partial copy is never visible under the target's name); then
# remove what interrupted copies to the same target left (<name>.wcpart-*, <name>.wcjoin-*).
# The temporary file is opened without sharing: a second join of the same copy fails instead of
# writing into it.

function Get-HexDigest {
    param($Algorithm)
    return ([BitConverter]::ToString($Algorithm.Hash) -replace '-', '').ToLowerInvariant()
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $target = [string]$request.target
    $partial = [string]$request.partial
    $parts = @($request.parts)
    $buffer = New-Object -TypeName byte[] -ArgumentList 1048576
    $whole = [Security.Cryptography.SHA256]::Create()
    $total = [long]0
    $problem = $null
    $stream = New-Object -TypeName IO.FileStream -ArgumentList $partial, ([IO.FileMode]::Create), ([IO.FileAccess]::Write), ([IO.FileShare]::None)
    try {
        for ($index = 0; $index -lt $parts.Count; $index++) {
            $part = [string]$parts[$index].path
            $one = [Security.Cryptography.SHA256]::Create()
            $reader = New-Object -TypeName IO.FileStream -ArgumentList $part, ([IO.FileMode]::Open), ([IO.FileAccess]::Read), ([IO.FileShare]::Read)
            try {
                while (($read = $reader.Read($buffer, 0, $buffer.Length)) -gt 0) {
                    $null = $one.TransformBlock($buffer, 0, $read, $null, 0)
                    $null = $whole.TransformBlock($buffer, 0, $read, $null, 0)
                    $stream.Write($buffer, 0, $read)
                    $total += $read
                }
            } finally {
                $reader.Dispose()
            }
            $null = $one.TransformFinalBlock($buffer, 0, 0)
            $digest = Get-HexDigest -Algorithm $one
            Remove-Item -LiteralPath $part -Force
            if ($digest -ne [string]$parts[$index].sha256) {
                $problem = [ordered]@{ kind = 'part_mismatch'; index = $index; sha256 = $digest }
                break
            }
        }
    } finally {
        $stream.Dispose()
    }
    if ($null -eq $problem) {
        $null = $whole.TransformFinalBlock($buffer, 0, 0)
        $digest = Get-HexDigest -Algorithm $whole
        if ($digest -ne [string]$request.sha256 -or $total -ne [long]$request.size) {
            $problem = [ordered]@{ kind = 'mismatch'; sha256 = $digest; size = $total }
        }
    }
    if ($null -ne $problem) {
        Remove-Item -LiteralPath $partial -Force
        Write-Answer @{ problem = $problem; sha256 = $null; size = $null; removed = @(); error = $null }
        return
    }
    if (Test-Path -LiteralPath $target -PathType Leaf) {
        [IO.File]::Replace($partial, $target, [NullString]::Value)
    } else {
        [IO.File]::Move($partial, $target)
    }
    $directory = [IO.Path]::GetDirectoryName($target)
    $leaf = [IO.Path]::GetFileName($target)
    $pattern = '^' + [regex]::Escape($leaf) + '\.wc(part-[0-9a-f]{16}-[0-9]+|join-[0-9a-f]{16})$'
    $removed = @()
    foreach ($left in [IO.Directory]::GetFiles($directory, $leaf + '.wc*')) {
        $name = [IO.Path]::GetFileName($left)
        if ($name -match $pattern) {
            try {
                Remove-Item -LiteralPath $left -Force
                $removed += $name
            } catch {
                $null = $_
            }
        }
    }
    Write-Answer @{ problem = $null; sha256 = $digest; size = $total; removed = $removed; error = $null }
} catch {
    if ($partial) { Remove-Item -LiteralPath $partial -Force -ErrorAction SilentlyContinue }
    Write-Answer @{ problem = $null; sha256 = $null; size = $null; removed = @(); error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
