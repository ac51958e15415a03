# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The steps of a change, run by powershell.exe -File in a detached job (the job's only call), from
# the copy stage_script.ps1 put in the job root; the request is the JSON file, also staged there,
# that the first argument names. Steps, in this order, each when the request asks:
# features (Install-WindowsFeature or Enable-WindowsOptionalFeature; stops when a reboot is
# needed), fetch (download to <zip>.partial, sha256 checked, then renamed), install (sha256 of the
# zip checked before anything is replaced, extracted beside the install directory, its dockerd
# must be the version asked for; the service is stopped and the old directory kept as
# <dir>.wcold), register (dockerd --unregister-service, --register-service <flags>), config
# (daemon.json written to a temporary file, then moved over it; the old text kept), start
# (automatic start, started or restarted, then docker version must answer with the version
# asked for). When install, register, config or start fails, the old directory and daemon.json
# are put back and the service started again: the answer says rolled_back. remove: the service
# stopped and unregistered, the install directory deleted. Progress lines go to stdout; the
# answer is the last line.
$ProgressPreference = 'SilentlyContinue'
$request = ConvertFrom-Json -InputObject ([IO.File]::ReadAllText([string]$args[0], $Utf8))
$answer = [ordered]@{ done = @(); restart_needed = $false; features = @(); server_version = $null; rolled_back = $false; error = $null }
$dir = [string]$request.install_dir
$old = $dir + '.wcold'
$new = $dir + '.wcnew'

function Invoke-Exe {
    # Short calls with little output (versions, service registration): read after the exit.
    param([string]$Path, [string]$Arguments)
    $info = New-Object -TypeName System.Diagnostics.ProcessStartInfo -ArgumentList $Path, $Arguments
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($info)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEnd()
    $process.WaitForExit()
    return @{ rc = $process.ExitCode; stdout = $stdout.Result; stderr = $stderr }
}

function Get-Sha256 {
    param([string]$Path)
    return (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
}

function Invoke-Dockerd {
    param([string]$Arguments)
    $result = Invoke-Exe (Join-Path $dir 'dockerd.exe') $Arguments
    if ($result.rc -ne 0) { throw ('dockerd ' + $Arguments + ' failed: ' + $result.stderr + $result.stdout) }
}

function Stop-Engine {
    $service = Get-Service -Name 'docker' -ErrorAction SilentlyContinue
    if ($service -and $service.Status -ne 'Stopped') {
        Stop-Service -Name 'docker' -Force
        $service.WaitForStatus('Stopped', [TimeSpan]::FromSeconds(120))
    }
}

function Start-Engine {
    param([bool]$Restart)
    Set-Service -Name 'docker' -StartupType Automatic
    if ($Restart) { Restart-Service -Name 'docker' -Force } else { Start-Service -Name 'docker' }
    $until = [DateTime]::UtcNow.AddSeconds([int]$request.wait)
    while ($true) {
        $result = Invoke-Exe (Join-Path $dir 'docker.exe') 'version --format "{{json .Server.Version}}"'
        if ($result.rc -eq 0) { return (ConvertFrom-Json -InputObject $result.stdout) }
        if ([DateTime]::UtcNow -gt $until) { throw ('the engine did not answer docker version within ' + $request.wait + ' s: ' + $result.stderr.Trim()) }
        Start-Sleep -Seconds 2
    }
}

try {
    if ($request.features) {
        foreach ($name in @($request.features)) {
            if ($request.server) {
                $result = Install-WindowsFeature -Name $name
                $needed = [string]$result.RestartNeeded
                if (-not $result.Success) { throw ('Install-WindowsFeature ' + $name + ' did not succeed (exit code ' + $result.ExitCode + ')') }
            } else {
                $needed = [string](Enable-WindowsOptionalFeature -Online -FeatureName $name -All -NoRestart).RestartNeeded
            }
            $answer.features += @{ name = [string]$name; restart_needed = $needed }
            if ('Yes', 'Maybe', 'True' -contains $needed) { $answer.restart_needed = $true }
        }
        $answer.done += 'features'
        if ($answer.restart_needed) {
            Write-Answer $answer
            return
        }
    }
    $zip = [string]$request.zip
    if ($request.fetch -and -not ([IO.File]::Exists($zip) -and (Get-Sha256 $zip) -eq $request.sha256)) {
        [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
        $response = [Net.WebRequest]::Create([string]$request.url).GetResponse()
        $stream = $response.GetResponseStream()
        $file = [IO.File]::Create($zip + '.partial')
        try {
            $buffer = New-Object -TypeName 'byte[]' -ArgumentList 1048576
            $got = 0
            $shown = 0
            while (($count = $stream.Read($buffer, 0, $buffer.Length)) -gt 0) {
                $file.Write($buffer, 0, $count)
                $got += $count
                if ($got - $shown -ge 8388608) { Write-Output ('progress {0} {1}' -f $got, $response.ContentLength); $shown = $got }
            }
        } finally {
            $file.Dispose()
            $response.Close()
        }
        $sha = Get-Sha256 ($zip + '.partial')
        if ($request.sha256 -and $sha -ne $request.sha256) {
            [IO.File]::Delete($zip + '.partial')
            throw ('the download of ' + $request.url + ' has sha256 ' + $sha + ', not ' + $request.sha256 + '; nothing was replaced')
        }
        if ([IO.File]::Exists($zip)) { [IO.File]::Delete($zip) }
        [IO.File]::Move($zip + '.partial', $zip)
        $answer.done += 'fetch'
    }
    $previous = $null
    $touched = $false
    try {
        if ($request.install) {
            $sha = Get-Sha256 $zip
            if ($request.sha256 -and $sha -ne $request.sha256) { throw ($zip + ' has sha256 ' + $sha + ', not ' + $request.sha256 + '; nothing was replaced') }
            foreach ($path in $new, $old) { if ([IO.Directory]::Exists($path)) { [IO.Directory]::Delete($path, $true) } }
            Add-Type -AssemblyName 'System.IO.Compression.FileSystem'
            [IO.Compression.ZipFile]::ExtractToDirectory($zip, $new)
            $staged = Join-Path $new 'docker'
            if (-not [IO.File]::Exists((Join-Path $staged 'dockerd.exe')) -or -not [IO.File]::Exists((Join-Path $staged 'docker.exe'))) {
                throw ($zip + ' does not hold docker\docker.exe and docker\dockerd.exe; nothing was replaced')
            }
            $check = Invoke-Exe (Join-Path $staged 'dockerd.exe') '--version'
            if ($check.stdout -notmatch ('^Docker version ' + [regex]::Escape([string]$request.version) + ',')) {
                throw ($zip + ' holds ' + $check.stdout.Trim() + ', not ' + $request.version + '; nothing was replaced')
            }
            Stop-Engine
            $touched = $true
            if ([IO.Directory]::Exists($dir)) { [IO.Directory]::Move($dir, $old) }
            [IO.Directory]::Move($staged, $dir)
            $answer.done += 'install'
        }
        if ($request.register) {
            if (Get-Service -Name 'docker' -ErrorAction SilentlyContinue) {
                Stop-Engine
                Invoke-Dockerd '--unregister-service'
            }
            Invoke-Dockerd ([string]$request.register_arguments)
            $answer.done += 'register'
        }
        if ($null -ne $request.config) {
            $path = [string]$request.config.path
            $previous = @{ exists = [IO.File]::Exists($path); text = $null }
            if ($previous.exists) { $previous.text = [IO.File]::ReadAllText($path) }
            $null = [IO.Directory]::CreateDirectory([IO.Path]::GetDirectoryName($path))
            [IO.File]::WriteAllText($path + '.wctmp', [string]$request.config.text, $Utf8)
            if ($previous.exists) { [IO.File]::Replace($path + '.wctmp', $path, [NullString]::Value) } else { [IO.File]::Move($path + '.wctmp', $path) }
            $touched = $true
            $answer.done += 'config'
        }
        if ($request.start) {
            $running = (Get-Service -Name 'docker').Status -eq 'Running'
            $answer.server_version = Start-Engine -Restart $running
            if ($request.version -and $answer.server_version -ne $request.version) {
                throw ('the engine answers as ' + $answer.server_version + ', not ' + $request.version)
            }
            $answer.done += 'start'
        }
    } catch {
        $failure = $_.Exception.Message
        if ($touched) {
            try {
                Stop-Engine
                if ([IO.Directory]::Exists($old)) {
                    if ([IO.Directory]::Exists($dir)) { [IO.Directory]::Delete($dir, $true) }
                    [IO.Directory]::Move($old, $dir)
                }
                if ($previous -and $previous.exists) { [IO.File]::WriteAllText($path, $previous.text, $Utf8) }
                elseif ($previous) { [IO.File]::Delete($path) }
                $answer.server_version = Start-Engine -Restart $false
                $answer.rolled_back = $true
            } catch {
                $failure += '; putting the previous engine back failed too: ' + $_.Exception.Message
            }
        }
        throw $failure
    }
    foreach ($path in $new, $old) { if ([IO.Directory]::Exists($path)) { [IO.Directory]::Delete($path, $true) } }
    if ($request.remove) {
        if (Get-Service -Name 'docker' -ErrorAction SilentlyContinue) {
            Stop-Engine
            Invoke-Dockerd '--unregister-service'
        }
        if ([IO.Directory]::Exists($dir)) { [IO.Directory]::Delete($dir, $true) }
        $answer.done += 'remove'
    }
    Write-Answer $answer
} catch {
    $answer.error = @{ kind = 'exception'; message = $_.Exception.Message }
    Write-Answer $answer
}
