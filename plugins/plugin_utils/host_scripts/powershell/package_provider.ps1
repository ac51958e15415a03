# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PackageManagement providers (workflow S1): list those available, install one from the
# PowerShell Gallery (Install-PackageProvider -Force, then Import-PackageProvider to check that
# it loads), or remove one that was installed that way (there is no Uninstall-PackageProvider:
# the provider's version folder under a Modules or ProviderAssemblies directory is deleted;
# anything else is refused). Every answer carries the list as it is before and afterwards.

$ProgressPreference = 'SilentlyContinue'

function Get-ProviderList {
    $list = New-Object -TypeName System.Collections.ArrayList
    foreach ($provider in @(Get-PackageProvider -ListAvailable -ErrorAction SilentlyContinue)) {
        $null = $list.Add([ordered]@{
            name = [string]$provider.Name
            version = [string]$provider.Version
            path = [string]$provider.ProviderPath
        })
    }
    return ,$list
}

function Get-RemovableItem {
    # What Install-PackageProvider created for the provider file at $Path: the folder named
    # after the provider (or its version folder) under a Modules or ProviderAssemblies
    # directory outside Windows' own folders; $null for anything else.
    param([string]$Path, [string]$Name)
    if (-not $Path) { return $null }
    $item = Get-Item -LiteralPath $Path -ErrorAction SilentlyContinue
    if (-not $item -or $item.PSIsContainer) { return $null }
    $child = $null
    $current = $item.Directory
    while ($current) {
        if ($current.Name -eq 'Modules' -or $current.Name -eq 'ProviderAssemblies') {
            foreach ($system in @($PSHOME, $env:SystemRoot)) {
                if ($system -and $current.FullName.StartsWith($system, [StringComparison]::OrdinalIgnoreCase)) { return $null }
            }
            if (-not $child -or $child.Name -ne $Name) { return $null }
            return $item.Directory.FullName
        }
        $child = $current
        $current = $current.Parent
    }
    return $null
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $answer = [ordered]@{ before = $null; providers = $null; output = @(); removed = @(); error = $null }
    $name = [string]$request.name
    $action = [string]$request.action
    $answer.before = Get-ProviderList
    if ($action -eq 'install') {
        [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
        $parameters = @{ Name = $name; Force = $true; ForceBootstrap = $true }
        if ($request.version) { $parameters['RequiredVersion'] = [string]$request.version }
        $lines = New-Object -TypeName System.Collections.ArrayList
        foreach ($item in @(Install-PackageProvider @parameters *>&1)) {
            if ($item -is [System.Management.Automation.ErrorRecord]) { throw $item.Exception }
            $null = $lines.Add([string]$item)
        }
        $import = @{ Name = $name; Force = $true }
        if ($request.version) { $import['RequiredVersion'] = [string]$request.version }
        $null = Import-PackageProvider @import
        $answer.output = $lines
    } elseif ($action -eq 'remove') {
        $removed = New-Object -TypeName System.Collections.ArrayList
        foreach ($provider in $answer.before) {
            if ($provider.name -ne $name) { continue }
            if ($request.version -and $provider.version -ne [string]$request.version) { continue }
            $folder = Get-RemovableItem -Path $provider.path -Name $name
            if (-not $folder) { throw "the provider '$name' at '$($provider.path)' was not installed by Install-PackageProvider; it is not removed" }
            if (Test-Path -LiteralPath $folder) {
                Remove-Item -LiteralPath $folder -Recurse -Force
                $null = $removed.Add($folder)
            }
        }
        $answer.removed = $removed
    } elseif ($action -ne 'list') {
        throw "unknown action '$action'"
    }
    if ($action -ne 'list') { $answer.providers = Get-ProviderList } else { $answer.providers = $answer.before }
    Write-Answer $answer
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
