# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# login_verify: one docker login call (its command line built on the controller, the password on
# its stdin) run with DOCKER_CONFIG set to a new directory under the user's %TEMP%, created with
# a protected ACL (inheritance off; SYSTEM, Administrators and the current user, full control:
# DirectorySecurity.SetAccessRuleProtection, Directory.CreateDirectory(String, DirectorySecurity))
# and removed afterwards, so the registry checks the credentials and the real configuration is
# never written (check mode). Its config.json names one unrelated registry, so docker keeps the
# credentials in that file and never picks docker-credential-wincred.exe by itself.

# login_verify: one docker login call (its command line built on the controller, the password on
# its stdin) run with DOCKER_CONFIG set to a new directory under the user's %TEMP%, created with
# a protected ACL (inheritance off; SYSTEM, Administrators and the current user, full control:
# DirectorySecurity.SetAccessRuleProtection, Directory.CreateDirectory(String, DirectorySecurity))
# and removed afterwards, so the registry checks the credentials and the real configuration is
# never written (check mode). Its config.json names one unrelated registry, so docker keeps the
# credentials in that file and never picks docker-credential-wincred.exe by itself.
try {
    $request = ConvertFrom-Request -Lines @($input)
    $call = $request.call
    $path = Resolve-Executable -Name ([string]$call.exe)
    if (-not $path) {
        Write-Answer @{ error = @{ kind = 'not_found'; exe = $call.exe; message = "$($call.exe).exe was not found on this host" } }
        return
    }
    $directory = Join-Path -Path ([IO.Path]::GetTempPath()) -ChildPath ('wincontainers-login-' + [Guid]::NewGuid().ToString('N'))
    if (Test-Path -LiteralPath $directory) { throw "$directory exists already" }
    $security = New-Object -TypeName System.Security.AccessControl.DirectorySecurity
    $security.SetAccessRuleProtection($true, $false)
    $me = [Security.Principal.WindowsIdentity]::GetCurrent().User.Value
    foreach ($sid in @('S-1-5-18', 'S-1-5-32-544', $me)) {
        $identity = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sid
        $rule = New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList @(
            $identity, 'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow')
        $security.AddAccessRule($rule)
    }
    $null = [IO.Directory]::CreateDirectory($directory, $security)
    try {
        [IO.File]::WriteAllText((Join-Path -Path $directory -ChildPath 'config.json'), '{"auths": {"wincontainers.images.invalid": {}}}', $Utf8)
        $variables = [ordered]@{}
        if ($call.env) {
            foreach ($property in $call.env.PSObject.Properties) { $variables[$property.Name] = [string]$property.Value }
        }
        $variables['DOCKER_CONFIG'] = $directory
        $environment = New-Object -TypeName PSObject -Property $variables
        $result = Complete-Call -Started (Start-Call -Path $path -CommandLine ([string]$call.cmdline) -Stdin $call.stdin -Environment $environment)
    } finally {
        Remove-Item -LiteralPath $directory -Recurse -Force -ErrorAction SilentlyContinue
    }
    Write-Answer ([ordered]@{ result = $result; removed = (-not (Test-Path -LiteralPath $directory)); error = $null })
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
