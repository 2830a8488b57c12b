"""A real PACS for the tests: Orthanc (Debian package `orthanc`) started on 127.0.0.1 on a free
port with a temporary storage folder and a generated configuration (not the system service),
and stopped after."""

import json
import os
import shutil
import socket
import subprocess
import time

AET = "ORTHANCTEST"
START_TIMEOUT_SECONDS = 30


def orthancExecutable():
    return shutil.which("Orthanc") or shutil.which("orthanc") or (os.path.exists("/usr/sbin/Orthanc") and "/usr/sbin/Orthanc") or None


def freePort():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OrthancServer:
    def __init__(self, folder):
        self.folder = folder
        self.port = freePort()
        self.process = None

    def start(self, attempts=3):
        """Start Orthanc; another program may take the free port first, so a failed start is retried on a new one."""
        for attempt in range(attempts):
            try:
                return self._start()
            except RuntimeError:
                if attempt == attempts - 1:
                    raise
                self.port = freePort()

    def _start(self):
        storage = os.path.join(self.folder, "storage")
        os.makedirs(storage, exist_ok=True)
        configuration = {
            "Name": "ALPPS test PACS", "StorageDirectory": storage, "IndexDirectory": storage, "Plugins": [],
            "HttpServerEnabled": False, "DicomServerEnabled": True, "DicomAet": AET, "DicomPort": self.port,
            "DicomCheckCalledAet": True, "DicomAlwaysAllowEcho": True, "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True, "DicomAlwaysAllowGet": True, "DicomScpTimeout": 30, "StableAge": 1,
            "DicomModalities": {}, "RemoteAccessAllowed": False,
        }
        path = os.path.join(self.folder, "orthanc.json")
        with open(path, "w", encoding="utf-8") as stream:
            json.dump(configuration, stream, indent=2)
        self.log = open(os.path.join(self.folder, "orthanc.log"), "w", encoding="utf-8")
        self.process = subprocess.Popen([orthancExecutable(), path], stdout=self.log, stderr=subprocess.STDOUT, cwd=self.folder)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.close()
                raise RuntimeError(f"Orthanc exited at start-up ({self.process.returncode}); see {self.log.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Orthanc did not listen on 127.0.0.1:{self.port} within {START_TIMEOUT_SECONDS} s")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if not self.log.closed:
            self.log.close()

    def options(self, callingAet="ALPPS"):
        return ["--host", "127.0.0.1", "--port", str(self.port), "--called-aet", AET, "--calling-aet", callingAet, "--timeout", "10"]
