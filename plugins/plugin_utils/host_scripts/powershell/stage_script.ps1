# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Stages what detached jobs run, so that the job_start exec carries none of it: the job runner
# (job_runner, which job_start copies into each job directory) and win_container_engine's
# engine_job with its request (run with powershell.exe -File): a JSON request and, in an exec of
# its own when the answer says it is missing, a constant script of the collection, sent deflated
# in base64 as bootstrap.ps1 receives scripts. Each is checked against the sha256 the controller
# sends before it is written, once, to <root>\scripts\<name>-<sha256, first 32 digits>.ps1
# (UTF-8 with a BOM: Windows PowerShell 5.1 reads a .ps1 without one in the ANSI code page,
# about_Character_Encoding) and <root>\scripts\data-<32 digits>.json, through a temporary file and
# a rename. engine_job's call names them from its job directory (..\scripts\...). The root and
# its scripts folder are private, as every job directory is, and the files are trusted as each
# job's runner.ps1 is. Requests older than a day are removed here.
function Write-Staged {
    param([string]$Path, [string]$Text, [string]$Sha, $Encoding)
    $hash = -join ([Security.Cryptography.SHA256]::Create().ComputeHash($Utf8.GetBytes($Text)) | ForEach-Object { $_.ToString('x2') })
    if ($hash -ne $Sha) { throw "$([IO.Path]::GetFileName($Path)): what was sent does not match its sha256" }
    if ([IO.File]::Exists($Path)) { return $false }
    $temporary = "$Path.tmp-" + [Guid]::NewGuid().ToString('N')
    [IO.File]::WriteAllText($temporary, $Text, $Encoding)
    try { [IO.File]::Move($temporary, $Path) } catch { [IO.File]::Delete($temporary); if (-not [IO.File]::Exists($Path)) { throw } }
    return $true
}

try {
    $request = ConvertFrom-Request -Lines @($input)
    $name = [string]$request.name
    $sha = [string]$request.sha256
    $dataSha = [string]$request.data_sha256
    if ("$name $sha" -cnotmatch '^[a-z_]{1,32} [0-9a-f]{64}$' -or ($dataSha -and $dataSha -cnotmatch '^[0-9a-f]{64}$')) {
        throw 'invalid script name or sha256'
    }
    $security = New-JobSecurity
    $root = Get-JobRoot -Security $security
    $dir = Join-Path -Path $root -ChildPath 'scripts'
    $null = [IO.Directory]::CreateDirectory($dir, $security)
    $null = Test-PrivateDirectory -Path $dir -Owners $JobTrusted
    foreach ($old in [IO.Directory]::GetFiles($dir, 'data-*.json')) {
        if (([DateTime]::UtcNow - [IO.File]::GetLastWriteTimeUtc($old)).TotalDays -gt 1) { [IO.File]::Delete($old) }
    }
    $path = Join-Path -Path $dir -ChildPath "$name-$($sha.Substring(0, 32)).ps1"
    if ($dataSha) {
        $null = Write-Staged -Path (Join-Path -Path $dir -ChildPath "data-$($dataSha.Substring(0, 32)).json") -Text ([string]$request.data) -Sha $dataSha -Encoding $Utf8
    }
    $staged = $false
    if ($request.payload -and -not [IO.File]::Exists($path)) {
        $text = [IO.StreamReader]::new([IO.Compression.DeflateStream]::new([IO.MemoryStream]::new([Convert]::FromBase64String([string]$request.payload)), 'Decompress')).ReadToEnd()
        $staged = Write-Staged -Path $path -Text $text -Sha $sha -Encoding (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $true)
    }
    Write-Answer @{ staged = $staged; missing = (-not [IO.File]::Exists($path)); error = $null }
} catch {
    Write-Failure $_
}
