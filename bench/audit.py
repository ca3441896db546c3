"""Known vulnerabilities in the pinned dependencies (constraints.txt), checked offline.

``python bench/audit.py ADVISORY_DB [--constraints constraints.txt]``

``pip-audit -r constraints.txt --no-deps --disable-pip`` is the tool to use where its services are
reachable (PyPI's JSON API or api.osv.dev). Where they are not, this script reads a local copy of the PyPA
advisory database (https://github.com/pypa/advisory-database: OSV records under ``vulns/<package>/``) and
reports every pinned version that an advisory's ECOSYSTEM ranges or version list cover. It prints the
database's date: an old copy can only vouch for what was known then.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

REPO = Path(__file__).resolve().parents[1]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(constraints: Path) -> dict[str, str]:
    found = {}
    for line in constraints.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[normalise(name)] = version.strip()
    return found


def affected(record: dict[str, Any], package: str, version: str) -> bool:
    """True when ``record`` covers ``package`` at ``version``."""
    try:
        current = Version(version)
    except InvalidVersion:
        return False
    for entry in record.get("affected", []):
        if normalise(entry.get("package", {}).get("name", "")) != package:
            continue
        if version in entry.get("versions", []):
            return True
        for spans in entry.get("ranges", []):
            if spans.get("type") == "ECOSYSTEM" and _in_intervals(current, spans.get("events", [])):
                return True
    return False


def _in_intervals(current: Version, events: list[dict[str, str]]) -> bool:
    """OSV events as intervals: each ``introduced`` up to the next ``fixed`` (excluded) or
    ``last_affected`` (included), or without end."""
    start: Version | None = None
    for event in events:
        if "introduced" in event:
            start = Version("0") if str(event["introduced"]) == "0" else Version(str(event["introduced"]))
        elif start is not None and "fixed" in event:
            if start <= current < Version(str(event["fixed"])):
                return True
            start = None
        elif start is not None and "last_affected" in event:
            if start <= current <= Version(str(event["last_affected"])):
                return True
            start = None
    return start is not None and current >= start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", type=Path, help="a checkout (or bare clone) of pypa/advisory-database")
    parser.add_argument("--constraints", type=Path, default=REPO / "constraints.txt")
    args = parser.parse_args()
    pinned = pins(args.constraints)
    git = ["git", "-C", str(args.database)]
    dated = subprocess.run(
        [*git, "log", "-1", "--format=%H %cs"], capture_output=True, text=True, check=False
    )
    listing = subprocess.run(
        [*git, "ls-tree", "-r", "--name-only", "HEAD", "vulns"], capture_output=True, text=True
    )
    if listing.returncode != 0:
        sys.exit(f"{args.database} is not a git copy of pypa/advisory-database: {listing.stderr.strip()}")
    findings = []
    checked = 0
    for path in listing.stdout.splitlines():
        parts = path.split("/")
        if len(parts) != 3 or normalise(parts[1]) not in pinned or not path.endswith((".yaml", ".json")):
            continue
        text = subprocess.run(
            [*git, "show", f"HEAD:{path}"], capture_output=True, text=True, check=True
        ).stdout
        record = yaml.safe_load(text)
        package = normalise(parts[1])
        checked += 1
        if affected(record, package, pinned[package]) and not record.get("withdrawn"):
            findings.append({"package": package, "version": pinned[package], "advisory": record.get("id")})
    report = {
        "database": dated.stdout.strip(),
        "pinned_packages": len(pinned),
        "advisories_read": checked,
        "findings": findings,
    }
    print(json.dumps(report, indent=1))
    sys.exit(1 if findings else 0)


if __name__ == "__main__":
    main()
