# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# login_state: the docker client configuration (credential settings, user names per registry) and,
# for the registry of the request, whether the stored credential is the one the task gives. The
# request carries a random salt and HMAC-SHA256(salt, "user:password") computed on the
# controller, never the password; the script computes the same HMAC of what is stored (the
# decoded "auth" of config.json, or "Username:Secret" from the credential helper's "get") with
# .NET Framework's System.Security.Cryptography.HMACSHA256 and answers one word per place:
# match, differs, token (an identity token is stored: a password cannot be compared with it),
# absent, unknown. Neither the stored secret nor its HMAC leaves the host. Only the registry's
# own entries are compared (request "hosts": the host names that mean it, compared as docker's
# ConvertToHostname does; -contains ignores case).
# Credential helper protocol (github.com/docker/docker-credential-helpers, README "Usage"):
# "get" reads the server URL on stdin and prints {"ServerURL", "Username", "Secret"}; when it
# holds nothing it prints "credentials not found in native keychain" and exits 1; Username
# "<token>" means Secret is an identity token (docker/cli cli/config/credentials/native_store.go).

function Get-ServerHost {
    param([string]$Server)
    $text = $Server.Trim()
    $at = $text.IndexOf('://')
    if ($at -ge 0) { $text = $text.Substring($at + 3) }
    $text = ($text -split '/', 2)[0]
    return ($text -split '@')[-1].ToLowerInvariant()
}

function Test-Wanted {
    param([string]$Server)
    return ($null -ne $script:Salt) -and ($script:Hosts -contains (Get-ServerHost -Server $Server))
}

function Compare-Stored {
    param([byte[]]$Stored)
    $hmac = New-Object -TypeName System.Security.Cryptography.HMACSHA256 -ArgumentList (, $script:Salt)
    try { $mine = $hmac.ComputeHash($Stored) } finally { $hmac.Dispose() }
    if ($mine.Length -ne $script:Digest.Length) { return 'differs' }
    $difference = 0
    for ($i = 0; $i -lt $mine.Length; $i++) { $difference = $difference -bor ($mine[$i] -bxor $script:Digest[$i]) }
    if ($difference -eq 0) { return 'match' }
    return 'differs'
}

function Compare-Entry {
    param($Entry)
    if ($Entry.identitytoken) { return 'token' }
    if (-not $Entry.auth) { return 'absent' }
    try { $stored = [Convert]::FromBase64String([string]$Entry.auth) } catch { return 'differs' }
    return Compare-Stored -Stored $stored
}

function Compare-Helper {
    param([string]$Path, [string]$Server)
    $result = Complete-Call -Started (Start-Call -Path $Path -CommandLine 'get' -Stdin $Server -Environment $null)
    if ($result.rc -ne 0) {
        # Only a fixed word: what a helper prints on failure is not ours to pass on.
        if (([string]$result.stdout + [string]$result.stderr) -match 'credentials not found') { return 'absent' }
        return 'unknown'
    }
    try {
        $stored = ConvertFrom-Json -InputObject ([string]$result.stdout)
        $user = [string]$stored.Username
        $secret = [string]$stored.Secret
    } catch {
        return 'unknown'
    }
    if ($user -eq '<token>') { return 'token' }
    return Compare-Stored -Stored ($Utf8.GetBytes($user + ':' + $secret))
}

function Get-HelperState {
    param([string]$Name, [string]$Server)
    $known = @('desktop', 'osxkeychain', 'pass', 'secretservice', 'wincred')
    $credentials = @{}
    if ($known -notcontains $Name) {
        return [ordered]@{ found = $false; users = $null; error = 'not a known credential helper'; credentials = $credentials }
    }
    $command = Get-Command -Name "docker-credential-$Name.exe" -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $command) {
        return [ordered]@{ found = $false; users = $null; error = "docker-credential-$Name.exe was not found on PATH"; credentials = $credentials }
    }
    $result = Complete-Call -Started (Start-Call -Path $command.Path -CommandLine 'list' -Stdin $null -Environment $null)
    if ($result.rc -ne 0) {
        $text = ([string]$result.stderr + [string]$result.stdout).Trim()
        if ($text.Length -gt 500) { $text = $text.Substring(0, 500) }
        if ($null -ne $script:Salt) { $credentials[$Server] = Compare-Helper -Path $command.Path -Server $Server }
        return [ordered]@{ found = $true; users = $null; error = $text; credentials = $credentials }
    }
    $users = @{}
    if ($result.stdout.Trim()) {
        foreach ($property in (ConvertFrom-Json -InputObject $result.stdout).PSObject.Properties) {
            $users[[string]$property.Name] = [string]$property.Value
        }
    }
    foreach ($listed in @($users.Keys)) {
        if (Test-Wanted -Server $listed) { $credentials[$listed] = Compare-Helper -Path $command.Path -Server $listed }
    }
    return [ordered]@{ found = $true; users = $users; error = $null; credentials = $credentials }
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
    $script:Salt = $null
    $script:Digest = $null
    $script:Hosts = @()
    if ($request.digest) {
        $script:Salt = [Convert]::FromBase64String([string]$request.salt)
        $script:Digest = [Convert]::FromBase64String([string]$request.digest)
        $script:Hosts = @($request.hosts | ForEach-Object { ([string]$_).ToLowerInvariant() })
    }
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
                $credential = $null
                if ($entry) {
                    if ($entry.auth) { $hasAuth = $true; $user = Get-AuthUser -Auth ([string]$entry.auth) }
                    if ($entry.identitytoken) { $hasToken = $true }
                }
                if (Test-Wanted -Server $property.Name) {
                    $credential = 'absent'
                    if ($entry) { $credential = Compare-Entry -Entry $entry }
                }
                $auths[[string]$property.Name] = [ordered]@{ user = $user; auth = $hasAuth; identity_token = $hasToken; credential = $credential }
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
    foreach ($name in ($names | Sort-Object -Unique)) { $helpers[$name] = Get-HelperState -Name $name -Server ([string]$request.server) }
    $defaultStore = $null
    if (Get-Command -Name 'docker-credential-wincred.exe' -CommandType Application -ErrorAction SilentlyContinue) { $defaultStore = 'wincred' }
    Write-Answer ([ordered]@{
        config_dir = $directory; config_file = $path; exists = $exists; creds_store = $credsStore
        cred_helpers = $credHelpers; auths = $auths; helpers = $helpers; default_store = $defaultStore
        compared = ($null -ne $script:Salt); error = $null
    })
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
