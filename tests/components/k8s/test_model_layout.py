"""One model layout: the Deployment path's unpack step, run for real, leaves /mnt/models exactly
as KServe's storage initializer does (kserve_storage.py: after the download, a single archive
is unpacked with tarfile's "data" filter, or zipfile, into the model directory and removed; any
other file stays as <dir>/<file>), and only after the artifact's SHA-256 matched."""

from __future__ import annotations

import hashlib
import io
import mimetypes
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from mlplatform.components.k8s import model_endpoint


def kserve_layout(artifact: Path, out: Path) -> None:
    """KServe's Storage._download_s3 + _unpack_archive_file for one downloaded object."""
    target = out / artifact.name
    target.write_bytes(artifact.read_bytes())
    kind, _ = mimetypes.guess_type(str(target))
    if kind == "application/x-tar":
        with tarfile.open(target, "r", encoding="utf-8") as archive:
            archive.extractall(out, filter="data")
        os.remove(target)
    elif kind == "application/zip":
        with zipfile.ZipFile(target, "r") as archive:
            archive.extractall(out)
        os.remove(target)


def unpack(artifact: Path, out: Path, sha256: str) -> subprocess.CompletedProcess[str]:
    """The init containers' work: the fetch step's download, then the unpack script as rendered."""
    download = out / ".download"
    download.mkdir()
    (download / artifact.name).write_bytes(artifact.read_bytes())
    env = {
        "MODEL_DIR": str(out),
        "DOWNLOAD_DIR": str(download),
        "MODEL_FILE": artifact.name,
        "MODEL_SHA256": sha256,
        "PATH": os.environ.get("PATH", ""),
    }
    return subprocess.run(
        [sys.executable, "-I", "-c", model_endpoint.UNPACK_SCRIPT], env=env, capture_output=True, text=True, check=False
    )


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def make_artifact(folder: Path, name: str) -> Path:
    path = folder / name
    files = {"model.bst": b"booster", "config/settings.json": b"{}", "vocab/tokens.txt": b"a\nb\n"}
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        mode = "w" if name.endswith(".tar") else "w:gz"
        with tarfile.open(path, mode) as archive:
            for member, data in files.items():
                info = tarfile.TarInfo(member)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    elif name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as archive:
            for member, data in files.items():
                archive.writestr(member, data)
    else:
        path.write_bytes(b"a single serialized model")
    return path


@pytest.mark.parametrize("name", ["model.tar.gz", "model.tgz", "model.tar", "model.zip", "model.joblib"])
def test_the_deployment_path_lays_the_model_out_as_kserves_storage_initializer(tmp_path: Path, name: str) -> None:
    artifact = make_artifact(tmp_path, name)
    ours, theirs = tmp_path / "ours", tmp_path / "kserve"
    ours.mkdir()
    theirs.mkdir()
    result = unpack(artifact, ours, hashlib.sha256(artifact.read_bytes()).hexdigest())
    assert result.returncode == 0, result.stderr
    kserve_layout(artifact, theirs)
    assert tree(ours) == tree(theirs)
    assert not (ours / ".download").exists()
    expected = ["model.joblib"] if name == "model.joblib" else ["config/settings.json", "model.bst", "vocab/tokens.txt"]
    assert sorted(tree(ours)) == expected


def test_nothing_is_unpacked_when_the_checksum_does_not_match(tmp_path: Path) -> None:
    artifact = make_artifact(tmp_path, "model.tar.gz")
    out = tmp_path / "models"
    out.mkdir()
    result = unpack(artifact, out, "0" * 64)
    assert result.returncode == 1
    actual = hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert result.stderr.strip() == f"model.tar.gz: SHA-256 {actual} does not match the promoted {'0' * 64}"
    assert tree(out) == {".download/model.tar.gz": artifact.read_bytes()}  # nothing unpacked


def test_an_archive_escaping_the_model_directory_is_refused(tmp_path: Path) -> None:
    # tarfile's "data" filter (PEP 706) refuses members outside the destination, as KServe's does.
    path = tmp_path / "model.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("../../etc/evil")
        info.size = 4
        archive.addfile(info, io.BytesIO(b"evil"))
    out = tmp_path / "models"
    out.mkdir()
    result = unpack(path, out, hashlib.sha256(path.read_bytes()).hexdigest())
    assert result.returncode == 1
    assert "OutsideDestinationError" in result.stderr
    assert not (tmp_path / "etc").exists()
