"""No secret is kept in the repository: keys are generated into the instance folder
(outside version control) on first start, never committed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Shapes of real secrets: private keys, Fernet keys, Standard Webhooks secrets with a
# real-length payload, assignments of long random-looking strings to key-ish names.
PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "fernet key": re.compile(r"""['"][A-Za-z0-9_-]{43}=['"]"""),
    "webhook secret": re.compile(r"whsec_[A-Za-z0-9+/]{32,}={0,2}"),
    "assigned secret": re.compile(
        r"""(?i)(secret_key|data_key|api_key|password)\s*[:=]\s*['"][A-Za-z0-9+/_=-]{24,}['"]"""
    ),
}


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / line for line in out.splitlines() if line]


def test_no_secret_in_tracked_files():
    """Scans every tracked text file for the shapes of real secrets."""
    found = []
    for path in tracked_files():
        if path.suffix in {".png", ".mo", ".xlsx", ".ico"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        found += [f"{path.relative_to(ROOT)}: {name}" for name, rx in PATTERNS.items() if rx.search(text)]
    assert found == []


def test_instance_folder_is_not_tracked():
    """The instance folder (database, generated keys) is ignored by git."""
    assert not [p for p in tracked_files() if p.relative_to(ROOT).parts[0] == "instance"]
    ignored = subprocess.run(["git", "check-ignore", "instance/secret_key"], cwd=ROOT, capture_output=True)
    assert ignored.returncode == 0
