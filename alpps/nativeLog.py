"""The log of Slicer's C++ libraries (VTK, ITK, MRML) kept back while a command runs.

Those libraries write straight to the process's standard error (with ANSI colour codes), so a
refused input used to print dozens of reader lines before the one-line refusal. The stream is
redirected to a temporary file at the file-descriptor level; the text is shown with --verbose,
and its first error line is quoted (colour codes removed) when it explains a refusal.
"""

import os
import re
import sys
import tempfile

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# loguru-style prefix of vtkLogger lines: date, time, uptime, thread, source:line
_LOG_PREFIX = re.compile(r"^\S+ \S+ \(\s*[\d.]+s\) \[[^\]]*\]\s*\S+:\d+\s+(\w+)\|\s*")


class NativeLogCapture:
    def __init__(self):
        self.text = ""
        self._file = None
        self._saved = None

    def __enter__(self):
        sys.stderr.flush()
        self._file = tempfile.TemporaryFile()
        self._saved = os.dup(2)
        os.dup2(self._file.fileno(), 2)
        return self

    def __exit__(self, *excinfo):
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._file.seek(0)
        self.text = self._file.read().decode("utf-8", errors="replace")
        self._file.close()
        return False

    def lines(self):
        cleaned = (_ANSI.sub("", line).strip() for line in self.text.splitlines())
        return [_LOG_PREFIX.sub("", line) for line in cleaned if line]

    def summary(self, refusal=""):
        """' (reader log: first error line; N lines with --verbose)' when the log holds errors
        and the refusal comes from a Slicer reader or writer, else ''."""
        lines = self.lines()
        errors = [line for line in lines if re.search(r"error|err\||exception|cannot|could not|failed", line, re.I)]
        if not errors or not re.search(r"Slicer|could not be read|could not write|could not import", refusal):
            return ""
        first = errors[0] if len(errors[0]) <= 200 else errors[0][:200] + "..."
        return f" (reader log: {first}; {len(lines)} log line(s) with --verbose)"
