
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

function Get-HelperUsers {
    param([string]$Name)
    $known = @('desktop', 'osxkeychain', 'pass', 'secretservice', 'wincred')
    if ($known -notcontains $Name) { return [ordered]@{ found = $false; users = $null; error = 'not a known credential helper' } }
    $command = Get-Command -Name "docker-credential-$Name.exe" -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $command) { return [ordered]@{ found = $false; users = $null; error = "docker-credential-$Name.exe was not found on PATH" } }
    $result = Complete-Call -Started (Start-Call -Path $command.Path -CommandLine 'list' -Stdin $null -Environment $null)
    if ($result.rc -ne 0) {
        $text = ([string]$result.stderr + [string]$result.stdout).Trim()
        if ($text.Length -gt 500) { $text = $text.Substring(0, 500) }
        return [ordered]@{ found = $true; users = $null; error = $text }
    }
    $users = @{}
    if ($result.stdout.Trim()) {
        foreach ($property in (ConvertFrom-Json -InputObject $result.stdout).PSObject.Properties) {
            $users[[string]$property.Name] = [string]$property.Value
        }
    }
    return [ordered]@{ found = $true; users = $users; error = $null }
}

function Get-AuthUser {
    param([string]$Auth)
    try {
        return ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($Auth)) -split ':', 2)[0]
    } catch {
        return $null
    }
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $directory = [string]$request.config_dir
    if (-not $directory) { $directory = [string]$env:DOCKER_CONFIG }
    if (-not $directory) { $directory = Join-Path -Path $env:USERPROFILE -ChildPath '.docker' }
    $path = Join-Path -Path $directory -ChildPath 'config.json'
    $exists = Test-Path -LiteralPath $path -PathType Leaf
    $config = $null
    if ($exists) {
        $text = [IO.File]::ReadAllText($path, $Utf8)
        # The parser's message may quote the file: never answer it.
        try { if ($text.Trim()) { $config = ConvertFrom-Json -InputObject $text } } catch { throw "$path is not valid JSON" }
    }
    $auths = @{}
    $credsStore = $null
    $credHelpers = @{}
    if ($config) {
        if ($config.auths) {
            foreach ($property in $config.auths.PSObject.Properties) {
                $entry = $property.Value
                $user = $null
                $hasAuth = $false
                $hasToken = $false
                if ($entry) {
                    if ($entry.auth) { $hasAuth = $true; $user = Get-AuthUser -Auth ([string]$entry.auth) }
                    if ($entry.identitytoken) { $hasToken = $true }
                }
                $auths[[string]$property.Name] = [ordered]@{ user = $user; auth = $hasAuth; identity_token = $hasToken }
            }
        }
        if ($config.credsStore) { $credsStore = [string]$config.credsStore }
        if ($config.credHelpers) {
            foreach ($property in $config.credHelpers.PSObject.Properties) { $credHelpers[[string]$property.Name] = [string]$property.Value }
        }
    }
    $names = @($credHelpers.Values)
    if ($credsStore) { $names += $credsStore }
    $helpers = @{}
    foreach ($name in ($names | Sort-Object -Unique)) { $helpers[$name] = Get-HelperUsers -Name $name }
    $defaultStore = $null
    if (Get-Command -Name 'docker-credential-wincred.exe' -CommandType Application -ErrorAction SilentlyContinue) { $defaultStore = 'wincred' }
    Write-Answer ([ordered]@{
        config_dir = $directory; config_file = $path; exists = $exists; creds_store = $credsStore
        cred_helpers = $credHelpers; auths = $auths; helpers = $helpers; default_store = $defaultStore; error = $null
    })
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
