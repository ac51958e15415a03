# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake WS-Management endpoint on loopback, for the ``winrm`` and ``psrp`` contract tests.

What is replaced: only the Windows machine at the other end of the TCP connection. The test
points the inventory host at ``127.0.0.1:<port>`` of this server, so ansible-core's real
``winrm`` and ``psrp`` connection plugins, pywinrm, pypsrp, requests and urllib3 all run
unchanged, over a real HTTP connection with Basic authentication, and nothing is patched in any
process. (This replaces even less than patching ``winrm.transport.Transport.send_message`` in
the ansible-playbook process would, and needs no ``sitecustomize``.)

It answers the SOAP actions those clients send:

* WinRS (resource ``.../windows/shell/cmd``, used by ``winrm``): Create shell, Command, Send
  (stdin), Receive (stdout, stderr, exit code), Signal (terminate), Delete.
* PowerShell Remoting (resource ``http://schemas.microsoft.com/powershell/Microsoft.PowerShell``,
  used by ``psrp``): the same actions carrying MS-PSRP messages. The server side of the
  message layer is implemented here (fragments, message headers, the runspace pool handshake
  SESSION_CAPABILITY / APPLICATION_PRIVATE_DATA / RUNSPACEPOOL_STATE, CREATE_PIPELINE,
  PIPELINE_INPUT, END_OF_PIPELINE_INPUT, PIPELINE_OUTPUT, PIPELINE_STATE); pypsrp's own
  serializer writes and reads the CLIXML inside the messages.

Every command ends in ``FakeWindowsHost.exchange``. A request the server does not understand is
a harness error (``errors.jsonl``) and gets a SOAP fault, so the test fails loudly. While the host
restarts (``fake_reboot.py``) every HTTP connection is dropped without an answer, and afterwards no
shell of before exists.
"""

from __future__ import annotations

import base64
import struct
import threading
import traceback
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fake_windows_host import FakeHostError, FakeWindowsHost, append_jsonl

import fake_put_file  # noqa: I001 - after fake_windows_host, whose emulations it extends
import fake_reboot

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "pwsh": "http://schemas.microsoft.com/powershell",
}
SHELL = NS["rsp"]
CMD_RESOURCE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
PWSH_RESOURCE_PREFIX = "http://schemas.microsoft.com/powershell/"
ACTIONS = {
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create": "Create",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete": "Delete",
    SHELL + "/Command": "Command",
    SHELL + "/Send": "Send",
    SHELL + "/Receive": "Receive",
    SHELL + "/Signal": "Signal",
}
RESPONSE_ACTIONS = {
    "Create": "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse",
    "Delete": "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse",
    "Command": SHELL + "/CommandResponse",
    "Send": SHELL + "/SendResponse",
    "Receive": SHELL + "/ReceiveResponse",
    "Signal": SHELL + "/SignalResponse",
}
DONE = SHELL + "/CommandState/Done"
RUNNING = SHELL + "/CommandState/Running"
TIMED_OUT = 2150858793  # ERROR_WSMAN_OPERATION_TIMEDOUT

for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)


def q(prefix: str, tag: str) -> str:
    return "{%s}%s" % (NS[prefix], tag)


class SoapFault(Exception):
    def __init__(self, http_status: int, code: int, subcode: str, reason: str) -> None:
        super().__init__(reason)
        self.http_status = http_status
        self.code = code
        self.subcode = subcode
        self.reason = reason


# --------------------------------------------------------------------------------------------
# MS-PSRP, server side

# [MS-PSRP] 2.2.1 message types used here
SESSION_CAPABILITY = 0x00010002
INIT_RUNSPACEPOOL = 0x00010004
RUNSPACEPOOL_STATE = 0x00021005
CREATE_PIPELINE = 0x00021006
APPLICATION_PRIVATE_DATA = 0x00021009
PIPELINE_INPUT = 0x00041002
END_OF_PIPELINE_INPUT = 0x00041003
PIPELINE_OUTPUT = 0x00041004
PIPELINE_STATE = 0x00041006
PIPELINE_HOST_RESPONSE = 0x00041101
RUNSPACEPOOL_HOST_RESPONSE = 0x00021101
TO_CLIENT = 0x00000001
OPENED = 2  # RunspacePoolState.Opened
COMPLETED = 4  # PSInvocationState.Completed


@dataclass
class PsrpMessage:
    message_type: int
    rpid: str
    pid: str
    data: bytes  # the CLIXML, BOM removed


class Defragmenter:
    """[MS-PSRP] 2.2.4 fragments back into messages."""

    def __init__(self) -> None:
        self.partial: dict[int, bytes] = {}

    def feed(self, data: bytes) -> list[PsrpMessage]:
        messages = []
        while data:
            if len(data) < 21:
                raise FakeHostError("truncated PSRP fragment header")
            object_id, _fragment_id, flags, length = struct.unpack(">QQBI", data[:21])
            blob, data = data[21:21 + length], data[21 + length:]
            buffered = self.partial.pop(object_id, b"") if not flags & 1 else b""
            buffered += blob
            if flags & 2:
                messages.append(self._message(buffered))
            else:
                self.partial[object_id] = buffered
        return messages

    @staticmethod
    def _message(data: bytes) -> PsrpMessage:
        _destination, message_type = struct.unpack("<II", data[:8])
        rpid = str(uuid.UUID(bytes_le=data[8:24])).upper()
        pid = str(uuid.UUID(bytes_le=data[24:40])).upper()
        body = data[40:]
        if body.startswith(b"\xef\xbb\xbf"):
            body = body[3:]
        return PsrpMessage(message_type, rpid, pid, body)


class Fragmenter:
    def __init__(self) -> None:
        self.next_object_id = 1

    def pack(self, message_type: int, rpid: str, pid: str | None, clixml: bytes, max_blob: int = 32768) -> bytes:
        data = struct.pack("<II", TO_CLIENT, message_type)
        data += uuid.UUID(rpid).bytes_le + (uuid.UUID(pid).bytes_le if pid else b"\0" * 16)
        data += b"\xef\xbb\xbf" + clixml
        object_id = self.next_object_id
        self.next_object_id += 1
        pieces = [data[i:i + max_blob] for i in range(0, len(data), max_blob)] or [b""]
        out = b""
        for index, piece in enumerate(pieces):
            flags = (1 if index == 0 else 0) | (2 if index == len(pieces) - 1 else 0)
            out += struct.pack(">QQBI", object_id, index, flags, len(piece)) + piece
        return out


def clixml(value: Any) -> bytes:
    from pypsrp.serializer import Serializer

    return ET.tostring(Serializer().serialize(value), encoding="utf-8", method="xml").split(b"?>", 1)[-1].lstrip()


def clixml_string(data: bytes) -> str:
    from pypsrp.serializer import Serializer

    return Serializer().deserialize(data.decode("utf-8"))


def pipeline_commands(create_pipeline: bytes) -> list[dict[str, Any]]:
    """The commands of a CREATE_PIPELINE message: text, whether a script, and argument count."""
    root = ET.fromstring(create_pipeline)
    commands = []
    for element in root.iter("Obj"):
        if element.get("N") != "Cmds":
            continue
        for command in element.iter("Obj"):
            props = {child.get("N"): child for child in command.findall("MS/*")}
            if "Cmd" not in props:
                continue
            args = props.get("Args")
            commands.append({
                "cmd": clixml_string(ET.tostring(props["Cmd"])),
                "is_script": (props["IsScript"].text or "").lower() == "true" if "IsScript" in props else False,
                "args": len(args.findall("LST/*")) if args is not None else 0,
            })
    no_input = root.find("MS/B[@N='NoInput']")
    commands_meta = {"no_input": no_input is not None and (no_input.text or "").lower() == "true"}
    return [commands_meta] + commands


# --------------------------------------------------------------------------------------------
# shells


@dataclass
class Command:
    command_id: str
    command_line: str = ""
    stdin: bytes = b""
    stdin_done: bool = False
    console_mode_stdin: bool = True
    done: bool = False
    result: Any = None
    # psrp
    script: str | None = None
    no_input: bool = False
    input_lines: list[str] = field(default_factory=list)
    sent_output: bool = False
    sink: Any = None  # ansible-core's own put_file (fake_put_file.py)


@dataclass
class Shell:
    shell_id: str
    resource_uri: str
    psrp: bool
    commands: dict[str, Command] = field(default_factory=dict)
    defragmenter: Defragmenter = field(default_factory=Defragmenter)
    fragmenter: Fragmenter = field(default_factory=Fragmenter)
    pending: list[bytes] = field(default_factory=list)


class FakeWSManServer:
    """The endpoint; ``start()`` binds a free loopback port (``self.port``)."""

    def __init__(self, host: FakeWindowsHost, username: str, password: str, hostname: str = "WIN-CONTAINERS1") -> None:
        self.host = host
        self.username = username
        self.password = password
        self.hostname = hostname
        self.shells: dict[str, Shell] = {}
        self.boots = 0
        self.lock = threading.RLock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class name
                del format, args

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                server.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fake-wsman", daemon=True)

    def start(self) -> "FakeWSManServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)

    # HTTP --------------------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length)
        down, boots = fake_reboot.status(self.host.directory)
        if down:
            # The host is restarting (fake_reboot.py): the connection drops without an answer.
            request.close_connection = True
            return
        if boots != self.boots:
            # The restarted WinRM service knows no shell of before.
            self.boots = boots
            with self.lock:
                self.shells.clear()
        expected = "Basic " + base64.b64encode(("%s:%s" % (self.username, self.password)).encode()).decode()
        if request.path != "/wsman":
            self._http(request, 404, b"", "text/plain")
            return
        if request.headers.get("Authorization") != expected:
            self._http(request, 401, b"", "text/plain", {"WWW-Authenticate": 'Basic realm="WSMAN"'})
            return
        content_type = request.headers.get("Content-Type", "")
        message_id = ""
        log: dict[str, Any] = {"request_bytes": len(body)}
        try:
            if not content_type.startswith("application/soap+xml"):
                raise FakeHostError("unexpected Content-Type %r (message encryption is not emulated)" % content_type)
            root = ET.fromstring(body)
            message_id = self._text(root, "s:Header/a:MessageID")
            status, response = 200, self.dispatch(root, log)
        except SoapFault as fault:
            status, response = fault.http_status, self._fault(message_id, fault)
        except Exception as exc:  # noqa: BLE001 - every failure here must fail the test
            self.host.record_error("wsman", "%s: %s" % (type(exc).__name__, exc), traceback.format_exc())
            fault = SoapFault(500, 2150858778, "w:InternalError", "fake WS-Management endpoint: %s" % exc)
            status, response = 500, self._fault(message_id, fault)
        if "action" in log:  # one line per SOAP request the endpoint understood, with its answer's size
            log.update(status=status, response_bytes=len(response))
            append_jsonl(self.host.directory / "wsman.jsonl", log)
        self._http(request, status, response, "application/soap+xml;charset=UTF-8")

    @staticmethod
    def _http(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        request.send_header("Server", "Microsoft-HTTPAPI/2.0")
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(body)

    # SOAP --------------------------------------------------------------------------------

    @staticmethod
    def _text(root: ET.Element, path: str) -> str:
        element = root.find(path, NS)
        return "" if element is None or element.text is None else element.text

    def dispatch(self, root: ET.Element, log: dict[str, Any]) -> bytes:
        """The answer to one SOAP request; ``log`` gets its transport and action (``wsman.jsonl``)."""
        action_uri = self._text(root, "s:Header/a:Action")
        resource = self._text(root, "s:Header/w:ResourceURI")
        message_id = self._text(root, "s:Header/a:MessageID")
        action = ACTIONS.get(action_uri)
        if action is None:
            raise FakeHostError("unexpected WS-Management action %r on %r" % (action_uri, resource))
        psrp = resource.startswith(PWSH_RESOURCE_PREFIX)
        if not psrp and resource != CMD_RESOURCE:
            raise FakeHostError("unexpected resource URI %r" % resource)
        options = {o.get("Name"): (o.text or "") for o in root.findall("s:Header/w:OptionSet/w:Option", NS)}
        selector = root.find("s:Header/w:SelectorSet/w:Selector[@Name='ShellId']", NS)
        shell_id = selector.text if selector is not None else None
        body = root.find("s:Body", NS)
        log.update(transport="psrp" if psrp else "winrm", action=action)
        with self.lock:
            if action == "Create":
                payload = self._create(resource, body, options, psrp)
            else:
                shell = self.shells.get(shell_id or "")
                if shell is None:
                    raise SoapFault(400, 2150858843, "w:InvalidSelectors",
                                    "The request for the Windows Remote Shell with ShellId %s failed because the "
                                    "shell was not found on the server." % shell_id)
                payload = getattr(self, "_" + action.lower())(shell, body, options)
        return self._envelope(RESPONSE_ACTIONS[action], message_id, payload)

    def _envelope(self, action: str, relates_to: str, payload: list[ET.Element]) -> bytes:
        envelope = ET.Element(q("s", "Envelope"), {"{http://www.w3.org/XML/1998/namespace}lang": "en-US"})
        header = ET.SubElement(envelope, q("s", "Header"))
        ET.SubElement(header, q("a", "Action")).text = action
        ET.SubElement(header, q("a", "MessageID")).text = "uuid:%s" % str(uuid.uuid4()).upper()
        ET.SubElement(header, q("a", "To")).text = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
        ET.SubElement(header, q("a", "RelatesTo")).text = relates_to
        body = ET.SubElement(envelope, q("s", "Body"))
        for element in payload:
            body.append(element)
        return ET.tostring(envelope, encoding="utf-8")

    def _fault(self, relates_to: str, fault: SoapFault) -> bytes:
        envelope = ET.Element(q("s", "Envelope"))
        header = ET.SubElement(envelope, q("s", "Header"))
        ET.SubElement(header, q("a", "Action")).text = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
        ET.SubElement(header, q("a", "MessageID")).text = "uuid:%s" % str(uuid.uuid4()).upper()
        ET.SubElement(header, q("a", "RelatesTo")).text = relates_to
        body = ET.SubElement(envelope, q("s", "Body"))
        soap_fault = ET.SubElement(body, q("s", "Fault"))
        code = ET.SubElement(soap_fault, q("s", "Code"))
        ET.SubElement(code, q("s", "Value")).text = "s:Receiver"
        ET.SubElement(ET.SubElement(code, q("s", "Subcode")), q("s", "Value")).text = fault.subcode
        reason = ET.SubElement(soap_fault, q("s", "Reason"))
        ET.SubElement(reason, q("s", "Text"), {"{http://www.w3.org/XML/1998/namespace}lang": "en-US"}).text = fault.reason
        detail = ET.SubElement(soap_fault, q("s", "Detail"))
        wsman_fault = ET.SubElement(detail, q("f", "WSManFault"), {"Code": str(fault.code), "Machine": self.hostname})
        ET.SubElement(wsman_fault, q("f", "Message")).text = fault.reason
        return ET.tostring(envelope, encoding="utf-8")

    # actions -----------------------------------------------------------------------------

    def _create(self, resource: str, body: ET.Element | None, options: dict[str, str], psrp: bool) -> list[ET.Element]:
        request_shell = body.find("rsp:Shell", NS) if body is not None else None
        if request_shell is None:
            raise FakeHostError("Create without rsp:Shell")
        shell_id = request_shell.get("ShellId") or str(uuid.uuid4()).upper()
        shell = Shell(shell_id, resource, psrp)
        if psrp:
            creation = request_shell.find("pwsh:creationXml", NS)
            if creation is None or not creation.text:
                raise FakeHostError("PSRP Create without creationXml")
            types = [m.message_type for m in shell.defragmenter.feed(base64.b64decode(creation.text))]
            if types != [SESSION_CAPABILITY, INIT_RUNSPACEPOOL]:
                raise FakeHostError("PSRP Create carried messages %s, expected SESSION_CAPABILITY, INIT_RUNSPACEPOOL"
                                    % [hex(t) for t in types])
            if options.get("protocolversion") is None:
                raise FakeHostError("PSRP Create without the protocolversion option")
            from pypsrp.messages import ApplicationPrivateData, RunspacePoolStateMessage, SessionCapability

            shell.pending.append(shell.fragmenter.pack(
                SESSION_CAPABILITY, shell_id, None, clixml(SessionCapability("2.3", "2.0", "1.1.0.1"))))
            shell.pending.append(shell.fragmenter.pack(APPLICATION_PRIVATE_DATA, shell_id, None, clixml(
                ApplicationPrivateData(data={"PSVersionTable": {
                    "PSVersion": "5.1.20348.2849", "PSEdition": "Desktop", "BuildVersion": "10.0.20348.2849",
                    "CLRVersion": "4.0.30319.42000", "WSManStackVersion": "3.0",
                    "PSRemotingProtocolVersion": "2.3", "SerializationVersion": "1.1.0.1"}}))))
            shell.pending.append(shell.fragmenter.pack(
                RUNSPACEPOOL_STATE, shell_id, None, clixml(RunspacePoolStateMessage(state=OPENED))))
        elif options.get("WINRS_CODEPAGE") not in (None, "65001"):
            raise FakeHostError("WinRS shell with code page %s; ansible asks for 65001" % options.get("WINRS_CODEPAGE"))
        self.shells[shell_id] = shell

        created = ET.Element(q("x", "ResourceCreated"))
        ET.SubElement(created, q("a", "Address")).text = "http://%s:5985/wsman" % self.hostname
        refs = ET.SubElement(created, q("a", "ReferenceParameters"))
        ET.SubElement(refs, q("w", "ResourceURI")).text = resource
        selectors = ET.SubElement(refs, q("w", "SelectorSet"))
        ET.SubElement(selectors, q("w", "Selector"), {"Name": "ShellId"}).text = shell_id
        out = ET.Element(q("rsp", "Shell"))
        for tag, text in (("ShellId", shell_id), ("ResourceUri", resource), ("Owner", self.username),
                          ("ClientIP", "127.0.0.1"), ("IdleTimeOut", "PT7200.000S"),
                          ("InputStreams", "stdin pr" if psrp else "stdin"),
                          ("OutputStreams", "stdout" if psrp else "stdout stderr"),
                          ("ShellRunTime", "P0DT0H0M0S"), ("ShellInactivity", "P0DT0H0M0S")):
            ET.SubElement(out, q("rsp", tag)).text = text
        return [created, out]

    def _command(self, shell: Shell, body: ET.Element | None, options: dict[str, str]) -> list[ET.Element]:
        line = body.find("rsp:CommandLine", NS) if body is not None else None
        if line is None:
            raise FakeHostError("Command without rsp:CommandLine")
        command_id = line.get("CommandId") or str(uuid.uuid4()).upper()
        command = Command(command_id)
        executable = self._text(line, "rsp:Command")
        arguments = [a.text or "" for a in line.findall("rsp:Arguments", NS)]
        if shell.psrp:
            messages = []
            for argument in arguments:
                messages.extend(shell.defragmenter.feed(base64.b64decode(argument)))
            if executable or [m.message_type for m in messages] != [CREATE_PIPELINE]:
                raise FakeHostError("PSRP Command without exactly one CREATE_PIPELINE message")
            command.sink = fake_put_file.open_psrp(self.host, messages[0].data)
            meta, *commands = pipeline_commands(messages[0].data)
            if command.sink is None and (len(commands) != 1 or not commands[0]["is_script"] or commands[0]["args"]):
                raise FakeHostError("expected one script without arguments in the pipeline, got %s" % commands)
            command.script = commands[0]["cmd"]
            command.no_input = meta["no_input"]
        else:
            command.command_line = executable + ("".join(" " + a for a in arguments))
            command.sink = fake_put_file.open_winrm(self.host, command.command_line)
            command.console_mode_stdin = options.get("WINRS_CONSOLEMODE_STDIN", "TRUE").upper() == "TRUE"
            if options.get("WINRS_SKIP_CMD_SHELL", "FALSE").upper() != "FALSE":
                raise FakeHostError("WINRS_SKIP_CMD_SHELL is set; ansible's winrm plugin runs through cmd.exe")
        shell.commands[command_id] = command
        response = ET.Element(q("rsp", "CommandResponse"))
        ET.SubElement(response, q("rsp", "CommandId")).text = command_id
        return [response]

    def _send(self, shell: Shell, body: ET.Element | None, options: dict[str, str]) -> list[ET.Element]:
        del options
        for stream in body.findall("rsp:Send/rsp:Stream", NS) if body is not None else []:
            command = shell.commands.get(stream.get("CommandId") or "")
            data = base64.b64decode(stream.text or "")
            if shell.psrp:
                if stream.get("Name") == "pr":
                    continue  # host call responses; nothing waits for them here
                if command is None:
                    raise FakeHostError("PSRP Send to an unknown pipeline")
                for message in shell.defragmenter.feed(data):
                    if message.message_type == PIPELINE_INPUT and command.sink is not None:
                        command.sink.feed_value(clixml_string(message.data))
                    elif message.message_type == PIPELINE_INPUT:
                        value = clixml_string(message.data)
                        if not isinstance(value, str):
                            raise FakeHostError("pipeline input that is not a string: %r" % (value,))
                        command.input_lines.append(value)
                    elif message.message_type == END_OF_PIPELINE_INPUT:
                        command.stdin_done = True
                    else:
                        raise FakeHostError("unexpected PSRP message %#x on stdin" % message.message_type)
            else:
                if command is None or stream.get("Name") != "stdin":
                    raise FakeHostError("Send to an unknown command or stream")
                if command.sink is not None:
                    command.sink.feed_bytes(data)
                else:
                    command.stdin += data
                if (stream.get("End") or "").lower() == "true":
                    command.stdin_done = True
        return [ET.Element(q("rsp", "SendResponse"))]

    def _receive(self, shell: Shell, body: ET.Element | None, options: dict[str, str]) -> list[ET.Element]:
        del options
        desired = body.find("rsp:Receive/rsp:DesiredStream", NS) if body is not None else None
        command_id = desired.get("CommandId") if desired is not None else None
        response = ET.Element(q("rsp", "ReceiveResponse"))
        if shell.psrp and command_id is None:
            if not shell.pending:
                raise SoapFault(500, TIMED_OUT, "w:TimedOut", "The WS-Management service cannot complete the "
                                "operation within the time specified in OperationTimeout.")
            self._stream(response, "stdout", None, b"".join(shell.pending))
            shell.pending.clear()
            return [response]
        command = shell.commands.get(command_id or "")
        if command is None:
            raise FakeHostError("Receive for an unknown command %r" % command_id)
        if shell.psrp:
            return [self._receive_psrp(shell, command, response)]
        if not command.done:
            if not command.stdin_done and not command.console_mode_stdin:
                raise SoapFault(500, TIMED_OUT, "w:TimedOut", "The WS-Management service cannot complete the "
                                "operation within the time specified in OperationTimeout.")
            answer = command.sink.finish() if command.sink is not None else \
                self.host.exchange("winrm", command=command.command_line, stdin=command.stdin)
            stdout, stderr = answer.stdout.encode("utf-8"), answer.stderr.encode("utf-8")
            for index in range(0, len(stdout), 8192):
                self._stream(response, "stdout", command_id, stdout[index:index + 8192])
            self._stream(response, "stdout", command_id, b"", end=True)
            if stderr:
                self._stream(response, "stderr", command_id, stderr)
            self._stream(response, "stderr", command_id, b"", end=True)
            command.done = True
            command.result = answer.rc
        state = ET.SubElement(response, q("rsp", "CommandState"), {"CommandId": command_id, "State": DONE})
        ET.SubElement(state, q("rsp", "ExitCode")).text = str(command.result)
        return [response]

    def _receive_psrp(self, shell: Shell, command: Command, response: ET.Element) -> ET.Element:
        from pypsrp.messages import PipelineState

        if not command.done:
            if not (command.stdin_done or command.no_input):
                raise SoapFault(500, TIMED_OUT, "w:TimedOut", "The WS-Management service cannot complete the "
                                "operation within the time specified in OperationTimeout.")
            answer = command.sink.finish() if command.sink is not None else \
                self.host.exchange("psrp", script=command.script, input_lines=command.input_lines)
            lines = list(answer.output)
            if answer.rc != 0 and not lines:
                lines = [answer.stderr.strip()]
            data = b"".join(shell.fragmenter.pack(PIPELINE_OUTPUT, shell.shell_id, command.command_id, clixml(line))
                            for line in lines)
            data += shell.fragmenter.pack(PIPELINE_STATE, shell.shell_id, command.command_id,
                                          clixml(PipelineState(state=COMPLETED)))
            self._stream(response, "stdout", command.command_id, data)
            command.done = True
        ET.SubElement(response, q("rsp", "CommandState"), {"CommandId": command.command_id, "State": DONE})
        return response

    @staticmethod
    def _stream(response: ET.Element, name: str, command_id: str | None, data: bytes, end: bool = False) -> None:
        attrs = {"Name": name}
        if command_id:
            attrs["CommandId"] = command_id
        if end:
            attrs["End"] = "true"
        ET.SubElement(response, q("rsp", "Stream"), attrs).text = base64.b64encode(data).decode("ascii") if data else None

    def _signal(self, shell: Shell, body: ET.Element | None, options: dict[str, str]) -> list[ET.Element]:
        del options
        signal = body.find("rsp:Signal", NS) if body is not None else None
        if signal is None:
            raise FakeHostError("Signal without rsp:Signal")
        code = self._text(signal, "rsp:Code")
        # WinRS: terminate (pywinrm's cleanup) or ctrl_c; PSRP: the stop signal, which MS-PSRP
        # spells "powershell/signal/crtl_c" and pypsrp sends as "powershell/signal/ctrl_c".
        allowed = (SHELL + "/signal/terminate", SHELL + "/signal/Terminate", SHELL + "/signal/ctrl_c") if not shell.psrp \
            else ("powershell/signal/crtl_c", "powershell/signal/ctrl_c")
        if code not in allowed:
            raise FakeHostError("unexpected signal %r on a %s shell" % (code, "PSRP" if shell.psrp else "WinRS"))
        shell.commands.pop(signal.get("CommandId") or "", None)
        return [ET.Element(q("rsp", "SignalResponse"))]

    def _delete(self, shell: Shell, body: ET.Element | None, options: dict[str, str]) -> list[ET.Element]:
        del body, options
        self.shells.pop(shell.shell_id, None)
        return []
