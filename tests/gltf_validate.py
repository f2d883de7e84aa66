"""Run the Khronos glTF-Validator (npm `gltf-validator`, installed under node_modules/) on a file.

The tests call `validate(path)` and assert on the parsed report; `node_available()` lets them
skip cleanly where node or the package is missing (CI installs both).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = ROOT / "node_modules" / "gltf-validator"

# Reads the asset named in argv, resolves external URIs beside it, prints the JSON report.
_SCRIPT = r"""
const fs = require("fs");
const path = require("path");
const validator = require(process.argv[1]);
const file = process.argv[2];
validator.validateBytes(new Uint8Array(fs.readFileSync(file)), {
  uri: path.basename(file),
  maxIssues: 0,
  writeTimestamp: false,
  externalResourceFunction: (uri) => new Promise((resolve, reject) => {
    fs.readFile(path.resolve(path.dirname(file), decodeURIComponent(uri)),
      (err, data) => err ? reject(err.toString()) : resolve(new Uint8Array(data)));
  }),
}).then((report) => { process.stdout.write(JSON.stringify(report)); },
        (error) => { process.stderr.write(String(error)); process.exit(3); });
"""


def node_available() -> bool:
    return shutil.which("node") is not None and (VALIDATOR / "package.json").is_file()


def validate(path: str | Path, timeout: float = 120.0) -> dict[str, Any]:
    """The validator's report for `path` as a dict (`issues.numErrors`, `issues.messages`, …)."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed")
    done = subprocess.run(
        [node, "-e", _SCRIPT, str(VALIDATOR), str(Path(path).resolve())],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"gltf-validator failed on {path}: {done.stderr.strip()[:500]}")
    return json.loads(done.stdout)


def problems(report: dict[str, Any], max_severity: int = 1) -> list[str]:
    """Messages at severity <= max_severity (0 error, 1 warning, 2 info, 3 hint), one a line."""
    return [
        f"{m['code']} {m.get('pointer', '')}: {m['message']}"
        for m in report["issues"]["messages"]
        if m["severity"] <= max_severity
    ]
