# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Windows facts used, with their sources (the decisions are in container_engine.py):
# Get-WindowsFeature (ServerManager, Server editions) gives InstallState (Available, Installed,
# InstallPending, Removed, UninstallPending) and Install-WindowsFeature answers Success and
# RestartNeeded (No, Yes, Maybe); client editions have Get-/Enable-WindowsOptionalFeature (DISM),
# whose State is Enabled, Disabled, EnablePending, DisablePending or DisabledWithPayloadRemoved
# and whose RestartNeeded is a bool (learn.microsoft.com). The servicing stack marks a pending
# reboot with the key Component Based Servicing\RebootPending, Windows Update with
# WindowsUpdate\Auto Update\RebootRequired. "dockerd --version" prints "Docker version X.Y.Z,
# build ..."; "dockerd --register-service <flags>" registers the service docker to run
# "<dockerd.exe> --run-service <flags>" with automatic start (moby cmd/dockerd/service_windows.go).
# The static binaries are docker-<version>.zip holding docker\docker.exe and docker\dockerd.exe.
#
# The engine facts: features, pending reboot, dockerd's version in the install directory, the
# docker service (Win32_Service), daemon.json (<data-root>\config\daemon.json, the data root from
# the request, the service's --data-root flag, or %ProgramData%\docker) and, when the service
# runs, whether the engine answers. dockerd.exe and docker.exe are the fixed names in the
# install directory the request names (the module's install_dir option).
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
