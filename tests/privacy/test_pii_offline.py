"""The scanner loads and finds e-mail addresses with the network cut off.

Runs in a fresh Python process whose sockets refuse to connect (and record the
attempt), with empty cache folders, so nothing fetched earlier can help.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, os, socket
attempts = []
def refuse(self, address, *args, **kwargs):
    attempts.append(str(address))
    raise OSError("network is cut off in this test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
real_getaddrinfo = socket.getaddrinfo
def no_dns(host, *args, **kwargs):
    attempts.append(f"dns:{host}")
    raise socket.gaierror("no DNS in this test")
socket.getaddrinfo = no_dns

import django
django.setup()
from apps.privacy.pii.scanner import PiiScanner
scanner = PiiScanner()
texts = ["write to jane.doe@example.co.uk or ops@datapunk.dev", "My name is David Johnson"]
found = [[(f.entity_type, t[f.start:f.end]) for f in fs] for t, fs in zip(texts, scanner.scan_texts(texts))]
ours = list(attempts)

# Control: tldextract as presidio would use it without our configuration does
# reach for the network on first use, so the block above really is in the way.
import tldextract
tldextract.TLDExtract(cache_dir=os.environ["XDG_CACHE_HOME"] + "/control")("x@example.co.uk")
print(json.dumps({"found": found, "ours": ours, "control": attempts[len(ours):]}))
"""


def test_scanner_runs_without_network(tmp_path, child_env):
    env = {**child_env, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ours"] == []
    assert report["found"][0] == [
        ["EMAIL_ADDRESS", "jane.doe@example.co.uk"],
        ["EMAIL_ADDRESS", "ops@datapunk.dev"],
    ]
    assert report["found"][1] == [["PERSON", "David Johnson"]]
    assert report["control"], (
        "the default tldextract did not try the network: the block proves nothing"
    )
