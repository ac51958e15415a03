# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Changes made with the cmdlets of the Windows Server 2016 Containers feature and the legacy
# ContainerImage provider: install an image from the provider (Install-ContainerImage) or from
# a WIM file (Install-ContainerOSImage), uninstall images (Uninstall-ContainerOSImage), or only
# check. Then the request's docker calls run (after an install: whether the engine lists the
# image); when one fails and the request allows it, the docker service is restarted once
# (workflow S5: Docker 1.12 imported such images only when it started) and the calls run again.

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
