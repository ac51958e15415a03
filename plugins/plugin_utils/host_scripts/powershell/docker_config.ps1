# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Docker client configuration (docker_login): the config file's credential settings and, per
# registry, the user it holds credentials for. A stored "auth" (base64 of "user:password") is
# decoded here and only its user part is answered; credential helpers are asked with "list",
# which answers "server -> user" and never a secret. Only the helpers named below are run.

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
