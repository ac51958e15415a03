
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

function Split-LinesIntoArguments {
    # The distinct output lines of an earlier call, in chunks that keep each command line
    # under CreateProcess's limit. Only plain tokens (IDs, references) are accepted, so
    # none of them needs quoting.
    param([string]$Text, [int]$Limit)
    $seen = @{}
    $chunks = New-Object -TypeName System.Collections.ArrayList
    $chunk = ''
    foreach ($token in ($Text -split "`r?`n")) {
        if (-not $token -or $seen.ContainsKey($token)) { continue }
        if ($token -notmatch '^[A-Za-z0-9][A-Za-z0-9:._/@-]*$') { throw "refusing to pass '$token' as an argument" }
        $seen[$token] = $true
        if ($chunk -and ($chunk.Length + $token.Length + 1) -gt $Limit) {
            $null = $chunks.Add($chunk)
            $chunk = ''
        }
        $chunk = ($chunk + ' ' + $token).Trim()
    }
    if ($chunk) { $null = $chunks.Add($chunk) }
    return ,$chunks
}

function Start-Call {
    param([string]$Path, [string]$CommandLine, $Stdin, $Environment)
    $info = New-Object -TypeName System.Diagnostics.ProcessStartInfo
    $info.FileName = $Path
    $info.Arguments = $CommandLine
    $info.UseShellExecute = $false
    $info.CreateNoWindow = $true
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.StandardOutputEncoding = $Utf8
    $info.StandardErrorEncoding = $Utf8
    if ($Environment) {
        foreach ($property in $Environment.PSObject.Properties) {
            $info.EnvironmentVariables[$property.Name] = [string]$property.Value
        }
    }
    # .NET Framework creates StandardInput with Console.InputEncoding and AutoFlush on, which
    # writes that encoding's preamble at once: a UTF-8 BOM before docker login's password whenever
    # the console code page is 65001 (the WinRS shells Ansible opens, chcp 65001 over ssh, the
    # "Use Unicode UTF-8" locale). A preamble-free encoding first, as ansible-core's wrapper does.
    try { [Console]::InputEncoding = $Utf8 } catch { $null = $_ }
    $process = [System.Diagnostics.Process]::Start($info)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    if ($null -ne $Stdin) {
        $writer = New-Object -TypeName System.IO.StreamWriter -ArgumentList $process.StandardInput.BaseStream, $Utf8
        $writer.Write([string]$Stdin)
        $writer.Close()
    } else {
        $process.StandardInput.Close()
    }
    return @{ Process = $process; Stdout = $stdout; Stderr = $stderr }
}

function Complete-Call {
    param($Started)
    $Started.Process.WaitForExit()
    $answer = [ordered]@{
        rc = $Started.Process.ExitCode
        stdout = $Started.Stdout.Result
        stderr = $Started.Stderr.Result
    }
    $Started.Process.Dispose()
    return $answer
}

$ProgressPreference = 'SilentlyContinue'

function Get-ProviderList {
    $list = New-Object -TypeName System.Collections.ArrayList
    foreach ($provider in @(Get-PackageProvider -ListAvailable -ErrorAction SilentlyContinue)) {
        $null = $list.Add([ordered]@{
            name = [string]$provider.Name
            version = [string]$provider.Version
            path = [string]$provider.ProviderPath
        })
    }
    return ,$list
}

function Get-RemovableItem {
    # What Install-PackageProvider created for the provider file at $Path: the folder named
    # after the provider (or its version folder) under a Modules or ProviderAssemblies
    # directory outside Windows' own folders; $null for anything else.
    param([string]$Path, [string]$Name)
    if (-not $Path) { return $null }
    $item = Get-Item -LiteralPath $Path -ErrorAction SilentlyContinue
    if (-not $item -or $item.PSIsContainer) { return $null }
    $child = $null
    $current = $item.Directory
    while ($current) {
        if ($current.Name -eq 'Modules' -or $current.Name -eq 'ProviderAssemblies') {
            foreach ($system in @($PSHOME, $env:SystemRoot)) {
                if ($system -and $current.FullName.StartsWith($system, [StringComparison]::OrdinalIgnoreCase)) { return $null }
            }
            if (-not $child -or $child.Name -ne $Name) { return $null }
            return $item.Directory.FullName
        }
        $child = $current
        $current = $current.Parent
    }
    return $null
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $answer = [ordered]@{ before = $null; providers = $null; output = @(); removed = @(); error = $null }
    $name = [string]$request.name
    $action = [string]$request.action
    $answer.before = Get-ProviderList
    if ($action -eq 'install') {
        [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
        $parameters = @{ Name = $name; Force = $true; ForceBootstrap = $true }
        if ($request.version) { $parameters['RequiredVersion'] = [string]$request.version }
        $lines = New-Object -TypeName System.Collections.ArrayList
        foreach ($item in @(Install-PackageProvider @parameters *>&1)) {
            if ($item -is [System.Management.Automation.ErrorRecord]) { throw $item.Exception }
            $null = $lines.Add([string]$item)
        }
        $import = @{ Name = $name; Force = $true }
        if ($request.version) { $import['RequiredVersion'] = [string]$request.version }
        $null = Import-PackageProvider @import
        $answer.output = $lines
    } elseif ($action -eq 'remove') {
        $removed = New-Object -TypeName System.Collections.ArrayList
        foreach ($provider in $answer.before) {
            if ($provider.name -ne $name) { continue }
            if ($request.version -and $provider.version -ne [string]$request.version) { continue }
            $folder = Get-RemovableItem -Path $provider.path -Name $name
            if (-not $folder) { throw "the provider '$name' at '$($provider.path)' was not installed by Install-PackageProvider; it is not removed" }
            if (Test-Path -LiteralPath $folder) {
                Remove-Item -LiteralPath $folder -Recurse -Force
                $null = $removed.Add($folder)
            }
        }
        $answer.removed = $removed
    } elseif ($action -ne 'list') {
        throw "unknown action '$action'"
    }
    if ($action -ne 'list') { $answer.providers = Get-ProviderList } else { $answer.providers = $answer.before }
    Write-Answer $answer
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
