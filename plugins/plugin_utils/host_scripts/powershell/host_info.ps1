# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Reads what the base image modules decide on, in one exec: the Windows version from the
# registry (never from docker's KernelVersion, which shows a stale revision), whether Hyper-V
# can isolate containers, the docker calls of the request (run at the same time), and, when
# asked, the OS images installed by Install-ContainerOSImage, the images the legacy
# ContainerImage provider offers, and a registry's tag list or manifest digests (fetched from
# the host, so its proxy and name resolution apply; anonymous bearer tokens only).

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
