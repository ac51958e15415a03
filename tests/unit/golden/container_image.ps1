
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

function Invoke-Collected {
    # Runs a command, returns its output lines; an error record in any stream fails the script.
    param([scriptblock]$Command)
    $lines = New-Object -TypeName System.Collections.ArrayList
    foreach ($item in @(& $Command *>&1)) {
        if ($item -is [System.Management.Automation.ErrorRecord]) { throw $item.Exception }
        $null = $lines.Add([string]$item)
    }
    return ,$lines
}

function Get-ContainerCommand {
    param([string]$Name, [string]$Hint)
    $command = Get-Command -Name $Name -ErrorAction SilentlyContinue
    if (-not $command) { throw "$Name is not available on this host: $Hint" }
    return $command
}

function Invoke-Checks {
    param([string]$Docker, $Calls)
    $results = New-Object -TypeName System.Collections.ArrayList
    foreach ($call in $Calls) {
        $started = Start-Call -Path $Docker -CommandLine ([string]$call.cmdline) -Stdin $null -Environment $call.env
        $null = $results.Add((Complete-Call -Started $started))
    }
    return ,$results
}

function Test-AllSucceeded {
    param($Results)
    foreach ($result in $Results) { if ($result.rc -ne 0) { return $false } }
    return $true
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $answer = [ordered]@{ output = @(); checks = $null; restarted = $false; rechecks = $null; error = $null }
    $action = [string]$request.action
    if ($action -eq 'install') {
        $null = Get-ContainerCommand -Name 'Install-ContainerImage' -Hint 'the ContainerImage provider is not installed'
        $parameters = @{ Name = [string]$request.name }
        if ($request.version) { $parameters['RequiredVersion'] = [string]$request.version }
        $answer.output = Invoke-Collected -Command { Install-ContainerImage @parameters }
    } elseif ($action -eq 'install_wim') {
        $path = [string]$request.path
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { throw "the WIM file '$path' does not exist on this host" }
        $command = Get-ContainerCommand -Name 'Install-ContainerOSImage' -Hint 'it comes with the Containers feature of Windows Server 2016'
        $parameters = @{ WimPath = $path }
        if ($command.Parameters.ContainsKey('Force')) { $parameters['Force'] = $true }
        $answer.output = Invoke-Collected -Command { Install-ContainerOSImage @parameters }
    } elseif ($action -eq 'uninstall') {
        $command = Get-ContainerCommand -Name 'Uninstall-ContainerOSImage' -Hint 'it comes with the Containers feature of Windows Server 2016'
        $output = New-Object -TypeName System.Collections.ArrayList
        foreach ($fullName in $request.full_names) {
            if ([string]$fullName -notmatch '^CN=Microsoft_[A-Za-z0-9]+_[0-9]+(\.[0-9]+){1,3}$') { throw "refusing to uninstall '$fullName'" }
            $parameters = @{ FullName = [string]$fullName }
            if ($command.Parameters.ContainsKey('Force')) { $parameters['Force'] = $true }
            if ($command.Parameters.ContainsKey('Confirm')) { $parameters['Confirm'] = $false }
            foreach ($line in (Invoke-Collected -Command { Uninstall-ContainerOSImage @parameters })) { $null = $output.Add($line) }
        }
        $answer.output = $output
    } elseif ($action -ne 'check') {
        throw "unknown action '$action'"
    }
    if ($request.calls) {
        $docker = Resolve-Executable -Name 'docker'
        if (-not $docker) { throw 'docker.exe was not found on this host' }
        $answer.checks = Invoke-Checks -Docker $docker -Calls $request.calls
        if ($request.restart -and -not (Test-AllSucceeded -Results $answer.checks)) {
            Restart-Service -Name 'docker' -Force
            $answer.restarted = $true
            $deadline = (Get-Date).AddSeconds([Math]::Max(10, [int]$request.restart_timeout))
            do {
                Start-Sleep -Seconds 1
                $probe = Complete-Call -Started (Start-Call -Path $docker -CommandLine 'version' -Stdin $null -Environment $null)
            } while ($probe.rc -ne 0 -and (Get-Date) -lt $deadline)
            $answer.rechecks = Invoke-Checks -Docker $docker -Calls $request.calls
        }
    }
    Write-Answer $answer
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
