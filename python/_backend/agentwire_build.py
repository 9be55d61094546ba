"""A PEP 517 / PEP 660 build backend for this one pure-Python package, on the standard library.

The package has no dependencies, and with this backend building it has none either: pip builds the
wheel without fetching setuptools, so ``pip install ./python`` works with no package index at all.
The version comes from ``agentwire/__init__.py``; the rest of the metadata from ``[project]``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PACKAGE = "agentwire"
_TAG = "py3-none-any"
# Reproducible archives: every entry gets this time (1980-01-01, the earliest a zip can hold).
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _project() -> dict:
    with open(os.path.join(_ROOT, "pyproject.toml"), "rb") as f:
        text = f.read().decode("utf-8")
    try:
        import tomllib  # Python 3.11+

        return tomllib.loads(text)["project"]
    except ImportError:
        # Older Pythons: the [project] table here holds only `key = "string"` lines.
        project, inside = {}, False
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("["):
                inside = line == "[project]"
            elif inside:
                match = re.match(r'^([A-Za-z0-9_-]+)\s*=\s*"(.*)"\s*$', line)
                if match:
                    project[match.group(1)] = match.group(2).replace('\\"', '"')
        return project


def _version() -> str:
    with open(os.path.join(_ROOT, _PACKAGE, "__init__.py"), encoding="utf-8") as f:
        match = re.search(r'^__version__\s*=\s*"([^"]+)"', f.read(), re.M)
    if not match:
        raise RuntimeError(f"No __version__ in {_PACKAGE}/__init__.py")
    return match.group(1)


def _metadata() -> str:
    project = _project()
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {_version()}",
        f"Summary: {project.get('description', '')}",
        f"Requires-Python: {project.get('requires-python', '>=3.8')}",
        f"License: {project.get('license', 'MIT')}",
    ]
    readme = project.get("readme")
    body = ""
    if isinstance(readme, str):
        with open(os.path.join(_ROOT, readme), encoding="utf-8") as f:
            body = f.read()
        lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + body


def _dist_info() -> str:
    return f"{_PACKAGE}-{_version()}.dist-info"


def _package_files():
    base = os.path.join(_ROOT, _PACKAGE)
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py") or name == "py.typed":
                path = os.path.join(folder, name)
                yield path, os.path.relpath(path, _ROOT).replace(os.sep, "/")


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"{name},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory: str, entries) -> str:
    name = f"{_PACKAGE}-{_version()}-{_TAG}.whl"
    info = _dist_info()
    entries = list(entries) + [
        (f"{info}/METADATA", _metadata().encode("utf-8")),
        (
            f"{info}/WHEEL",
            f"Wheel-Version: 1.0\nGenerator: agentwire_build\nRoot-Is-Purelib: true\nTag: {_TAG}\n".encode(
                "ascii"
            ),
        ),
    ]
    record = [_record_line(n, d) for n, d in entries] + [f"{info}/RECORD,,"]
    entries.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode("utf-8")))
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as wheel:
        for entry_name, data in entries:
            item = zipfile.ZipInfo(entry_name, _EPOCH)
            item.external_attr = 0o644 << 16
            item.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(item, data)
    return name


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = os.path.join(metadata_directory, _dist_info())
    os.makedirs(info, exist_ok=True)
    with open(os.path.join(info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    return _dist_info()


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, ((name, _read(path)) for path, name in _package_files()))


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # PEP 660: a .pth file puts the source folder itself on sys.path.
    return _write_wheel(wheel_directory, [(f"{_PACKAGE}.pth", (_ROOT + "\n").encode("utf-8"))])


def build_sdist(sdist_directory, config_settings=None):
    base = f"{_PACKAGE}-{_version()}"
    name = f"{base}.tar.gz"
    files = [("pyproject.toml", "pyproject.toml"), ("README.md", "README.md")]
    files += [(os.path.join("_backend", "agentwire_build.py"), "_backend/agentwire_build.py")]
    files += [(os.path.relpath(path, _ROOT), arc) for path, arc in _package_files()]
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as sdist:

        def add(arcname: str, data: bytes) -> None:
            item = tarfile.TarInfo(f"{base}/{arcname}")
            item.size = len(data)
            item.mtime = int(time.mktime(_EPOCH + (0, 0, -1)))
            item.mode = 0o644
            sdist.addfile(item, io.BytesIO(data))

        for path, arcname in files:
            add(arcname, _read(os.path.join(_ROOT, path)))
        add("PKG-INFO", _metadata().encode("utf-8"))
    return name
