"""`register --from-mlflow`: a model version's artifact and lineage, from an MLflow tracking server.

`models:/NAME/VERSION` (a registered model version) or `runs:/RUN_ID/PATH` (an artifact of a run)
is resolved with the MLflow client: the artifact is downloaded (through the tracking server's
artifact proxy or straight from the store the run names) and, when it is a directory (an MLflow
model is), packed into a reproducible `model.tar.gz`. The run it came from gives the lineage the
registry records: run id, experiment, parameters, metrics and the source commit MLflow tagged.

The MLflow client is imported only here, and only when --from-mlflow is used: it is the optional
extra `mlplatform[mlflow]`, and the CLI's other commands start without it.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlplatform.promotion.errors import PromotionError

INSTALL_HINT = "pip install 'mlplatform[mlflow]'"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
_MODELS = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)$")
_RUNS = re.compile(r"^runs:/(?P<run>[0-9a-zA-Z]+)/(?P<path>.+)$")
# MLflow's tag for the commit of the code that ran (set by mlflow.start_run from a git checkout).
GIT_COMMIT_TAG = "mlflow.source.git.commit"
PACKED_NAME = "model.tar.gz"


@dataclass
class Lineage:
    """Where a registered version came from; recorded in its manifest and the ledger."""

    source: str  # the models:/ or runs:/ URI given
    tracking_uri: str
    run_id: str
    experiment_id: str
    experiment_name: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    source_commit: str | None = None
    registered_model: str | None = None  # for models:/
    registered_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "tracking_uri": self.tracking_uri,
            "run_id": self.run_id,
            "experiment_id": self.experiment_id,
            "experiment_name": self.experiment_name,
            "params": dict(self.params),
            "metrics": dict(self.metrics),
            "source_commit": self.source_commit,
            "registered_model": self.registered_model,
            "registered_version": self.registered_version,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Lineage:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def describe(self) -> str:
        """One line for `history` and `status`: where the version came from."""
        commit = f", commit {self.source_commit[:12]}" if self.source_commit else ""
        return f"{self.source} (run {self.run_id}, experiment '{self.experiment_name}'{commit})"


@dataclass
class Resolved:
    artifact: Path  # a local file to register
    lineage: Lineage


def parse(uri: str) -> tuple[str, str, str]:
    """('models', name, version) or ('runs', run_id, path); a PromotionError for anything else."""
    if match := _MODELS.match(uri):
        return "models", match["name"], match["version"]
    if match := _RUNS.match(uri):
        return "runs", match["run"], match["path"].strip("/")
    raise PromotionError(
        f"--from-mlflow {uri}: expected models:/NAME/VERSION (a registered model version) or runs:/RUN_ID/PATH"
    )


def tracking_uri(given: str | None, published: str | None) -> str:
    """--tracking-uri, else MLFLOW_TRACKING_URI, else the environment's tracker (SSM)."""
    found = given or os.environ.get(TRACKING_URI_ENV) or published
    if not found:
        raise PromotionError(
            "--from-mlflow needs the MLflow tracking server: pass --tracking-uri URI or set MLFLOW_TRACKING_URI"
        )
    return found


def resolve(uri: str, tracking: str, workdir: Path) -> Resolved:
    """Download the artifact `uri` names and read its run's lineage from `tracking`."""
    kind, first, second = parse(uri)
    mlflow, client, exceptions = _client(tracking)
    registered: tuple[str, str] | None = None
    try:
        if kind == "models":
            version = client.get_model_version(first, second)
            if not version.run_id:
                raise PromotionError(f"{uri}: the model version records no run, so it has no lineage to register")
            run_id = version.run_id
            registered = (first, second)
        else:
            run_id = first
        run = client.get_run(run_id)
        experiment = client.get_experiment(run.info.experiment_id)
        target = workdir / "mlflow-artifact"
        target.mkdir(parents=True, exist_ok=True)
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(target), tracking_uri=tracking))
    except exceptions.MlflowException as exc:
        raise PromotionError(f"{uri}: {_reason(exc)} (MLflow at {tracking})") from None
    except OSError as exc:  # connection refused, DNS, ...
        raise PromotionError(f"{uri}: cannot reach MLflow at {tracking}: {exc}") from None
    artifact = local if local.is_file() else pack(local, workdir / PACKED_NAME)
    lineage = Lineage(
        source=uri,
        tracking_uri=tracking,
        run_id=run_id,
        experiment_id=str(run.info.experiment_id),
        experiment_name=str(experiment.name),
        params={str(k): str(v) for k, v in run.data.params.items()},
        metrics={str(k): float(v) for k, v in run.data.metrics.items() if _finite(v)},
        source_commit=run.data.tags.get(GIT_COMMIT_TAG),
        registered_model=registered[0] if registered else None,
        registered_version=registered[1] if registered else None,
    )
    return Resolved(artifact, lineage)


def pack(directory: Path, dest: Path) -> Path:
    """A tar.gz of `directory`'s contents that depends on the bytes and names only (sorted
    entries, no times, owners or modes beyond the executable bit), so the same model packs to
    the same SHA-256 wherever it is downloaded."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(directory.rglob("*")):
            if not path.is_file():
                continue
            info = tarfile.TarInfo(path.relative_to(directory).as_posix())
            info.size = path.stat().st_size
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    with dest.open("wb") as out, gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        gz.write(raw.getvalue())
    return dest


def _client(tracking: str) -> tuple[Any, Any, Any]:
    try:
        import mlflow
        import mlflow.artifacts
        from mlflow import exceptions
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise PromotionError(f"--from-mlflow needs the MLflow client, which is not installed: {INSTALL_HINT}") from None
    return mlflow, MlflowClient(tracking_uri=tracking, registry_uri=tracking), exceptions


def _reason(exc: Any) -> str:
    code = getattr(exc, "error_code", "")
    if code == "RESOURCE_DOES_NOT_EXIST":
        return "not found"
    text = str(getattr(exc, "message", exc)).strip().splitlines()
    return text[0] if text else str(code) or "MLflow error"


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(float(value))
