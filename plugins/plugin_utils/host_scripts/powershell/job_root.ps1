# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Detached jobs: long operations (multi-GB pulls, save, load) run in a process that Windows
# Management Instrumentation starts outside the WinRM shell, so a dropped or timed-out shell
# does not cancel them (the Docker daemon cancels a pull when its last client goes away). The
# job keeps its request, logs and results in a directory named by the job's ID under a root
# that only SYSTEM, Administrators and the connecting user may write to; short execs poll it.
# The runner's own script is the constant job_runner, staged in <root>\scripts by stage_script and
# copied into the job directory by job_start. The rules
# (start, attach, stale jobs, collect, clean up, orphans, locks) are in docs/architecture.md,
# "Detached jobs: the lifecycle in one place"; the requests and answers in jobs.py.
#
# Windows behaviour relied on (learn.microsoft.com): %ProgramData% subfolders are writable by
# Users and new folders inherit that ("FolderLocations ProgramData"), so the root gets its own
# protected ACL (ObjectSecurity.SetAccessRuleProtection; Directory.CreateDirectory(String,
# DirectorySecurity) applies it only to a directory it creates); FileMode.CreateNew fails when
# the file exists (the exclusive creates); File.GetAttributes does not follow a reparse point;
# Directory.Delete does not recurse through reparse points; File.Replace needs an existing
# destination; a PID is not reused while a handle to the process is open (OpenProcess).
#
# This part (job_root) holds what finds and checks the root; job_prelude what the job scripts add
# (Get-LiveProcess, Read-Shared); stage_script needs only this part.
#
# Test-PrivateDirectory answers $false for a missing path and refuses (an "unsafe" error naming
# the path) a directory another principal controls: not a directory, a reparse point, an owner
# outside $Owners, or an allow rule (explicit or inherited) that gives any other SID one of the
# write rights: WriteData, AppendData, WriteExtendedAttributes, DeleteSubdirectoriesAndFiles,
# WriteAttributes, Delete, ChangePermissions, TakeOwnership, GENERIC_ALL, GENERIC_WRITE
# (0x500D0156). Get-JobRoot checks both levels of the root (creating missing ones with the
# -Security given); Get-LiveProcess gives the process a "<pid> <start time ticks>" line names
# while it runs, so a reused PID is never taken for the runner (-Pin: with a handle open first,
# which keeps the PID from being reused before the process is stopped; that asks for all access,
# so liveness alone only asks what Process.StartTime needs).

$JobUser = [Security.Principal.WindowsIdentity]::GetCurrent().User.Value
$JobTrusted = @('S-1-5-18', 'S-1-5-32-544', $JobUser)

function Stop-Unsafe {
    param([string]$Path, [string]$Problem)
    $exception = New-Object -TypeName System.InvalidOperationException -ArgumentList ('{0}: {1}; refusing to use it' -f $Path, $Problem)
    $exception.Data['kind'] = 'unsafe'
    throw $exception
}

function Write-Failure {
    param($Record)
    $kind = $Record.Exception.Data['kind']
    if (-not $kind) { $kind = 'exception' }
    Write-Answer @{ error = @{ kind = $kind; message = $Record.Exception.Message } }
}

function Test-PrivateDirectory {
    param([string]$Path, [string[]]$Owners)
    if (-not [IO.Directory]::Exists($Path)) {
        if ([IO.File]::Exists($Path)) { Stop-Unsafe $Path 'it is not a directory' }
        return $false
    }
    if ([int][IO.File]::GetAttributes($Path) -band [int][IO.FileAttributes]::ReparsePoint) { Stop-Unsafe $Path 'it is a reparse point (a link or junction)' }
    try { $acl = [IO.Directory]::GetAccessControl($Path) } catch { Stop-Unsafe $Path 'its owner and access rules cannot be read' }
    $owner = $acl.GetOwner([Security.Principal.SecurityIdentifier]).Value
    if ($Owners -notcontains $owner) { Stop-Unsafe $Path "it is owned by $owner" }
    foreach ($rule in $acl.GetAccessRules($true, $true, [Security.Principal.SecurityIdentifier])) {
        $sid = $rule.IdentityReference.Value
        if ($rule.AccessControlType -eq 'Allow' -and $JobTrusted -notcontains $sid -and ([int]$rule.FileSystemRights -band 0x500D0156)) {
            Stop-Unsafe $Path "$sid may write to it"
        }
    }
    return $true
}

function New-JobSecurity {
    # The protected ACL of the job root and what is made in it: SYSTEM, Administrators and the
    # current user, full control, inherited; the current user as owner.
    $security = New-Object -TypeName System.Security.AccessControl.DirectorySecurity
    $security.SetAccessRuleProtection($true, $false)
    $security.SetOwner((New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $JobUser))
    foreach ($sid in $JobTrusted) {
        $security.AddAccessRule((New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList @(
            (New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sid),
            'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow')))
    }
    return $security
}

function Get-JobRoot {
    param($Security)
    $path = [Environment]::GetFolderPath('CommonApplicationData')
    foreach ($name in 'wincontainers.images', 'jobs') {
        $path = Join-Path -Path $path -ChildPath $name
        if ($Security) { $null = [IO.Directory]::CreateDirectory($path, $Security) }
        if (-not (Test-PrivateDirectory -Path $path -Owners $JobTrusted)) { return $null }
    }
    return $path
}
