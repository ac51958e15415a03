
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

$ProgressPreference = 'SilentlyContinue'
$ManifestTypes = @(
    'application/vnd.docker.distribution.manifest.list.v2+json'
    'application/vnd.oci.image.index.v1+json'
    'application/vnd.docker.distribution.manifest.v2+json'
    'application/vnd.oci.image.manifest.v1+json'
) -join ', '
$RegistryValues = @('CurrentBuildNumber', 'CurrentBuild', 'UBR', 'DisplayVersion', 'ReleaseId', 'ProductName',
    'EditionID', 'InstallationType', 'CurrentMajorVersionNumber', 'CurrentMinorVersionNumber')
$script:RegistryToken = ''

function Get-WindowsFacts {
    $values = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    $facts = [ordered]@{}
    foreach ($name in $RegistryValues) {
        $property = $values.PSObject.Properties[$name]
        if ($null -ne $property) { $facts[$name] = $property.Value } else { $facts[$name] = $null }
    }
    return $facts
}

function Get-HyperVFacts {
    $facts = [ordered]@{ vmms = $null; hypervisor_present = $null; problem = $null }
    try {
        $service = Get-Service -Name 'vmms' -ErrorAction SilentlyContinue
        if ($service) { $facts.vmms = [string]$service.Status }
        $system = Get-CimInstance -ClassName 'Win32_ComputerSystem'
        $facts.hypervisor_present = [bool]$system.HypervisorPresent
    } catch {
        $facts.problem = $_.Exception.Message
    }
    return $facts
}

function Get-ContainerOsImages {
    $root = Join-Path -Path $env:ProgramData -ChildPath 'Microsoft\Windows\Images'
    $names = New-Object -TypeName System.Collections.ArrayList
    if (Test-Path -LiteralPath $root -PathType Container) {
        foreach ($item in @(Get-ChildItem -LiteralPath $root -Directory)) {
            if ($item.Name -like 'CN=Microsoft_*') { $null = $names.Add($item.Name) }
        }
    }
    return ,$names
}

function Find-ProviderImages {
    param($Find)
    $found = [ordered]@{ images = @(); problem = $null; message = $null }
    if (-not (Get-Command -Name 'Find-ContainerImage' -ErrorAction SilentlyContinue)) {
        $found.problem = 'provider_missing'
        $found.message = 'Find-ContainerImage is not available: the ContainerImage provider is not installed'
        return $found
    }
    try {
        $parameters = @{}
        if ($Find.name) { $parameters['Name'] = [string]$Find.name }
        if ($Find.all_versions) { $parameters['AllVersions'] = $true }
        $images = New-Object -TypeName System.Collections.ArrayList
        foreach ($item in @(Find-ContainerImage @parameters)) {
            $null = $images.Add([ordered]@{
                name = [string]$item.Name
                version = [string]$item.Version
                source = [string]$item.Source
                summary = [string]$item.Summary
            })
        }
        $found.images = $images
    } catch {
        $found.problem = 'failed'
        $found.message = $_.Exception.Message
    }
    return $found
}

function Invoke-RegistryRequest {
    param([string]$Url, [string]$Method, [string]$Accept, [string]$Token)
    $request = [System.Net.WebRequest]::Create($Url)
    $request.Method = $Method
    $request.Accept = $Accept
    $request.UserAgent = 'wincontainers.images'
    $request.Timeout = 60000
    if ($Token) { $request.Headers.Add('Authorization', 'Bearer ' + $Token) }
    $response = $null
    try {
        $response = $request.GetResponse()
    } catch {
        $failure = $_.Exception
        while ($failure -and -not ($failure -is [System.Net.WebException])) { $failure = $failure.InnerException }
        if (-not $failure -or -not $failure.Response) { throw }
        $response = $failure.Response
    }
    try {
        $body = ''
        if ($Method -ne 'HEAD') {
            $stream = $response.GetResponseStream()
            $reader = New-Object -TypeName System.IO.StreamReader -ArgumentList $stream, $Utf8
            $body = $reader.ReadToEnd()
            $reader.Dispose()
        }
        return @{
            status = [int]$response.StatusCode
            body = $body
            authenticate = [string]$response.Headers['WWW-Authenticate']
            link = [string]$response.Headers['Link']
            digest = [string]$response.Headers['Docker-Content-Digest']
        }
    } finally {
        $response.Close()
    }
}

function Get-AnonymousToken {
    # The registry's bearer challenge names the token service: ask it for an anonymous token.
    param([string]$Challenge)
    if ($Challenge -notmatch '^\s*Bearer\s+(.+)$') { return '' }
    $fields = @{}
    foreach ($match in [regex]::Matches($Matches[1], '(\w+)="([^"]*)"')) {
        $fields[$match.Groups[1].Value.ToLowerInvariant()] = $match.Groups[2].Value
    }
    if (-not $fields.ContainsKey('realm')) { return '' }
    $query = @()
    foreach ($name in @('service', 'scope')) {
        if ($fields.ContainsKey($name)) { $query += ($name + '=' + [Uri]::EscapeDataString($fields[$name])) }
    }
    $url = $fields['realm']
    if ($query.Count -gt 0) { $url = $url + '?' + ($query -join '&') }
    $answer = Invoke-RegistryRequest -Url $url -Method 'GET' -Accept 'application/json' -Token ''
    if ($answer.status -ne 200) { return '' }
    $document = ConvertFrom-Json -InputObject $answer.body
    if ($document.token) { return [string]$document.token }
    return [string]$document.access_token
}

function Invoke-Registry {
    param([string]$Url, [string]$Method, [string]$Accept)
    $answer = Invoke-RegistryRequest -Url $Url -Method $Method -Accept $Accept -Token $script:RegistryToken
    if ($answer.status -eq 401 -and $answer.authenticate) {
        $script:RegistryToken = Get-AnonymousToken -Challenge $answer.authenticate
        if ($script:RegistryToken) {
            $answer = Invoke-RegistryRequest -Url $Url -Method $Method -Accept $Accept -Token $script:RegistryToken
        }
    }
    return $answer
}

function Read-Registry {
    param($Registry)
    $result = [ordered]@{ base = $null; status = $null; tags = $null; digests = [ordered]@{}; problem = $null }
    $failures = @()
    foreach ($candidate in $Registry.bases) {
        try {
            $null = Invoke-RegistryRequest -Url ([string]$candidate + '/v2/') -Method 'GET' -Accept 'application/json' -Token ''
            $result.base = [string]$candidate
            break
        } catch {
            $failures += ([string]$candidate + ': ' + $_.Exception.Message)
        }
    }
    if (-not $result.base) {
        $result.problem = 'the registry did not answer: ' + ($failures -join '; ')
        return $result
    }
    if ($Registry.tags_path) {
        $tags = New-Object -TypeName System.Collections.ArrayList
        $url = $result.base + [string]$Registry.tags_path
        for ($page = 0; $url -and $page -lt 200; $page++) {
            $answer = Invoke-Registry -Url $url -Method 'GET' -Accept 'application/json'
            $result.status = $answer.status
            if ($answer.status -ne 200) {
                $result.problem = 'listing the tags answered HTTP ' + $answer.status + ': ' + $answer.body
                break
            }
            $document = ConvertFrom-Json -InputObject $answer.body
            foreach ($tag in $document.tags) {
                if ($null -ne $tag) { $null = $tags.Add([string]$tag) }
            }
            $url = $null
            if ($answer.link -match '<([^>]+)>\s*;\s*rel="?next"?') {
                $url = [string](New-Object -TypeName System.Uri -ArgumentList ([Uri]($result.base + '/')), $Matches[1])
            }
        }
        $result.tags = $tags
    }
    foreach ($manifest in $Registry.manifests) {
        $answer = Invoke-Registry -Url ($result.base + [string]$manifest.path) -Method 'HEAD' -Accept $ManifestTypes
        $result.digests[[string]$manifest.tag] = [ordered]@{ status = $answer.status; digest = $answer.digest }
    }
    return $result
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $answer = [ordered]@{
        os = Get-WindowsFacts
        hyperv = Get-HyperVFacts
        docker_found = $false
        results = @()
        os_images = $null
        find = $null
        registry = $null
        error = $null
    }
    if ($request.calls) {
        $docker = Resolve-Executable -Name 'docker'
        if ($docker) {
            $answer.docker_found = $true
            $started = @()
            foreach ($call in $request.calls) {
                $started += ,(Start-Call -Path $docker -CommandLine ([string]$call.cmdline) -Stdin $null -Environment $call.env)
            }
            $results = New-Object -TypeName System.Collections.ArrayList
            foreach ($item in $started) { $null = $results.Add((Complete-Call -Started $item)) }
            $answer.results = $results
        }
    }
    if ($request.engine) { $answer.engine = Get-EngineFacts -Request $request.engine }
    if ($request.os_images) { $answer.os_images = Get-ContainerOsImages }
    if ($request.find) { $answer.find = Find-ProviderImages -Find $request.find }
    if ($request.registry) {
        [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
        $answer.registry = Read-Registry -Registry $request.registry
    }
    Write-Answer $answer
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
