
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

function Get-EngineFacts {
    param($Request)
    $features = [ordered]@{ kind = 'unknown'; containers = $null; hyperv = $null; problem = $null }
    try {
        if (Get-Command -Name 'Get-WindowsFeature' -ErrorAction SilentlyContinue) {
            $features.kind = 'server'
            foreach ($item in @(Get-WindowsFeature -Name 'Containers', 'Hyper-V')) {
                if ($item.Name -eq 'Containers') { $features.containers = [string]$item.InstallState } else { $features.hyperv = [string]$item.InstallState }
            }
        } else {
            $features.kind = 'client'
            $item = Get-WindowsOptionalFeature -Online -FeatureName 'Containers'
            if ($item) { $features.containers = [string]$item.State }
            $item = Get-WindowsOptionalFeature -Online -FeatureName 'Microsoft-Hyper-V'
            if ($item) { $features.hyperv = [string]$item.State }
        }
    } catch {
        $features.problem = $_.Exception.Message
    }
    $reasons = @()
    foreach ($key in 'Component Based Servicing\RebootPending', 'WindowsUpdate\Auto Update\RebootRequired') {
        if (Test-Path -LiteralPath ('HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\' + $key)) { $reasons += $key }
    }
    $dir = [string]$Request.install_dir
    if (-not $dir) { $dir = Join-Path -Path $env:ProgramFiles -ChildPath 'Docker' }
    $dir = [Environment]::ExpandEnvironmentVariables($dir)
    $facts = [ordered]@{
        features = $features; reboot = @{ pending = ($reasons.Count -gt 0); reasons = $reasons }
        install_dir = $dir; dockerd = $null; service = @{ exists = $false }; engine = $null; data_root = $null; daemon_json = $null
    }
    $dockerd = Join-Path -Path $dir -ChildPath 'dockerd.exe'
    if ([IO.File]::Exists($dockerd)) {
        $facts.dockerd = (Complete-Call -Started (Start-Call -Path $dockerd -CommandLine '--version' -Stdin $null -Environment $null)).stdout
    }
    $service = Get-CimInstance -ClassName 'Win32_Service' -Filter "Name='docker'"
    if ($service) {
        $facts.service = @{ exists = $true; state = [string]$service.State; start_mode = [string]$service.StartMode; path_name = [string]$service.PathName }
    }
    $root = [string]$Request.data_root
    if (-not $root -and $service -and ([string]$service.PathName -match '--data-root[= ]+("[^"]+"|\S+)')) { $root = $Matches[1].Trim('"') }
    if (-not $root) { $root = Join-Path -Path $env:ProgramData -ChildPath 'docker' }
    $facts.data_root = [Environment]::ExpandEnvironmentVariables($root)
    $path = Join-Path -Path $facts.data_root -ChildPath 'config\daemon.json'
    $facts.daemon_json = @{ path = $path; exists = [IO.File]::Exists($path); text = $null }
    if ($facts.daemon_json.exists) { $facts.daemon_json.text = [IO.File]::ReadAllText($path, $Utf8) }
    $docker = Join-Path -Path $dir -ChildPath 'docker.exe'
    if ($service -and [string]$service.State -eq 'Running' -and [IO.File]::Exists($docker)) {
        $facts.engine = Complete-Call -Started (Start-Call -Path $docker -CommandLine 'version --format "{{json .Server.Version}}"' -Stdin $null -Environment $null)
    }
    return $facts
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $answer = Get-EngineFacts -Request $request
    $answer.index = $null
    $answer.archive = $null
    $answer.error = $null
    if ($request.index) {
        $answer.index = @{ status = $null; body = $null; problem = $null }
        try {
            [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
            $response = Invoke-WebRequest -Uri ([string]$request.index) -UseBasicParsing -TimeoutSec 60
            $answer.index.status = [int]$response.StatusCode
            $answer.index.body = [string]$response.Content
        } catch {
            $answer.index.problem = $_.Exception.Message
        }
    }
    if ($request.archive) {
        $path = [string]$request.archive
        $answer.archive = @{ exists = [IO.File]::Exists($path); size = $null; sha256 = $null }
        if ($answer.archive.exists) {
            $answer.archive.size = (New-Object -TypeName System.IO.FileInfo -ArgumentList $path).Length
            $answer.archive.sha256 = (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash.ToLowerInvariant()
        }
    }
    Write-Answer $answer
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
