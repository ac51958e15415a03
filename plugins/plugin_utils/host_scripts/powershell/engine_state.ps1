# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# win_container_engine's read: the engine facts and, when asked, the download index (for
# version: latest; fetched from the host, so its proxy applies) and the sha256 of an archive.
try {
    $request = ConvertFrom-Request -Lines @($input)
    $answer = Get-EngineFacts -Request $request
    $answer.index = $null
    $answer.archive = $null
    $answer.error = $null
    if ($request.index) {
        $answer.index = @{ status = $null; body = $null; problem = $null }
        try {
            [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
            $response = Invoke-WebRequest -Uri ([string]$request.index) -UseBasicParsing -TimeoutSec 60
            $answer.index.status = [int]$response.StatusCode
            $answer.index.body = [string]$response.Content
        } catch {
            $answer.index.problem = $_.Exception.Message
        }
    }
    if ($request.archive) {
        $path = [string]$request.archive
        $answer.archive = @{ exists = [IO.File]::Exists($path); size = $null; sha256 = $null }
        if ($answer.archive.exists) {
            $answer.archive.size = (New-Object -TypeName System.IO.FileInfo -ArgumentList $path).Length
            $answer.archive.sha256 = (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash.ToLowerInvariant()
        }
    }
    Write-Answer $answer
} catch {
    Write-Answer @{ error = @{ kind = 'exception'; message = $_.Exception.Message } }
}
