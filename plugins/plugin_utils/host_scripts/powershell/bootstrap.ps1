# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The command line of every exec (powershell_scripts.BOOTSTRAP, sent as -EncodedCommand, so each
# character costs 8/3 bytes on every exec: hence one terse line). Its input is joined and split
# into lines again (2.16's psrp gives all of stdin as one string). The first line is one of the
# constant scripts, deflated (RFC 1951) and in base64: System.IO.Compression.DeflateStream
# (System.dll, loaded in every Windows PowerShell 5.1 session) inflates it, StreamReader reads it
# as UTF-8, and it runs with the remaining lines as its input. A failure to even start the script
# (bad base64, a corrupt stream, a parse error: .NET exceptions, which end the try block without
# $ErrorActionPreference) is answered in the same JSON form as the scripts'
# own errors, with every character outside printable ASCII, and \ and ", as '?'. One line: the
# comment lines above are not sent.
$l=@((@($input) -join [char]10) -split '\r?\n');try{$s=[ScriptBlock]::Create([IO.StreamReader]::new([IO.Compression.DeflateStream]::new([IO.MemoryStream]::new([Convert]::FromBase64String($l[0])),'Decompress')).ReadToEnd())}catch{'{"error":{"kind":"exception","message":"bootstrap: '+($_.Exception.Message -replace '[^ -~]|[\\"]','?')+'"}}';exit 1};$l|Select-Object -Skip 1|&$s
