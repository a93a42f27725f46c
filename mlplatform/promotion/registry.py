"""`register`: put a model version into an environment's registry.

A local file is uploaded (multipart, S3 computing SHA-256 per part); an s3:// object is
adopted with a server-side copy. Either way the manifest records the SHA-256 of the whole
artifact and of each part, size, metrics, image, git commit, who and when, and the version
becomes a SageMaker model package in the environment's model package group.
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlplatform import naming
from mlplatform.promotion import artifacts, baselines, packages, transfer
from mlplatform.promotion import manifest as manifests
from mlplatform.promotion.aws import Aws, aws_errors, error_code
from mlplatform.promotion.common import ProgressFactory, no_progress
from mlplatform.promotion.errors import PromotionError
from mlplatform.promotion.ledger import Entry, Ledger, now
from mlplatform.promotion.manifest import Manifest
from mlplatform.promotion.project import Environment, Project


@dataclass(frozen=True)
class Submission:
    """What a registration brings: the artifact (a local file or an s3:// object), its metrics and
    serving image; optionally the version number, its lineage and its data-quality baseline (a
    folder or s3:// prefix holding statistics.json and constraints.json)."""

    artifact: str
    metrics: dict[str, float] = field(default_factory=dict)
    image: str | None = None
    version: str | None = None
    lineage: dict[str, Any] | None = None
    baseline: str | None = None


@dataclass
class Registered:
    manifest: Manifest
    uri: str
    env: str
    baseline: str | None = None  # the s3:// prefix of its baseline files

    def to_json(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "model": m.model,
            "version": m.version,
            "sha256": m.sha256,
            "uri": self.uri,
            "size": m.size,
            "env": self.env,
            "image": m.image,
            "metrics": m.metrics,
            "git_commit": m.git_commit,
            "model_package_arn": m.model_package_arn,
            "registered_by": m.registered_by,
            "registered_at": m.registered_at,
            "lineage": m.lineage,
            "baseline": self.baseline,
        }


def load_metrics(path: Path | None) -> dict[str, float]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PromotionError(f"{path}: metrics file not found") from None
    except ValueError as exc:
        raise PromotionError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PromotionError(f'{path}: metrics must be a JSON object of numbers, e.g. {{"auc": 0.93}}')
    metrics: dict[str, float] = {}
    for name, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise PromotionError(f"{path}: metric '{name}' must be a finite number, not {value!r}")
        metrics[str(name)] = float(value)
    return metrics


def git_commit(root: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def parse_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or not key:
        raise PromotionError(f"{uri}: expected s3://BUCKET/KEY")
    return bucket, key


def register(
    project: Project, model: str, env_name: str, submission: Submission, progress: ProgressFactory = no_progress
) -> Registered:
    return register_in(project.environment(model, env_name), model, submission, progress, project.root)


def register_in(
    env: Environment,
    model: str,
    submission: Submission,
    progress: ProgressFactory = no_progress,
    root: Path | None = None,
) -> Registered:
    """`register` in an environment already resolved (a pipeline's registration step has no
    project folder around it); `root` is the git checkout whose commit is recorded."""
    artifact, metrics, lineage = submission.artifact, submission.metrics, submission.lineage
    env_name = env.name
    if env.is_production:
        raise PromotionError(
            f"{env_name} is production: versions enter it only by promotion, with its gates and approval; "
            f"register into {env.order[0]} and promote"
        )
    image = submission.image or next((e.image for e in env.endpoints_of(model) if e.image), None)
    if not image:
        raise PromotionError(
            f"{model}: no serving image: pass --image URI (the blueprint's endpoint for {model} sets none)"
        )
    problem = manifests.image_problem(image)
    if problem:
        raise PromotionError(f"{model}: {problem}")
    aws = Aws(env)
    who = aws.identity
    bucket = aws.registry_bucket
    part = artifacts.part_size()
    adopt = artifact.startswith("s3://")
    if adopt:
        src_bucket, src_key = parse_s3_uri(artifact)
        filename = Path(src_key).name
        digest = _hash_s3(aws, src_bucket, src_key, part, progress)
    else:
        path = Path(artifact)
        if not path.is_file():
            raise PromotionError(f"{artifact}: artifact file not found")
        filename = path.name
        with path.open("rb") as handle, progress(f"hashing {filename}", path.stat().st_size) as advance:
            digest = artifacts.hash_stream(handle, path.stat().st_size, part, advance)
    baseline = baselines.read(submission.baseline, aws) if submission.baseline else None
    version = _claim(aws, model, submission.version)
    manifest = Manifest(
        model=model,
        version=version,
        filename=filename,
        sha256=digest.sha256,
        size=digest.size,
        part_size=digest.part_size,
        part_sha256=digest.part_sha256,
        image=image,
        metrics=metrics,
        git_commit=git_commit(root) if root is not None else (lineage or {}).get("git_commit"),
        registered_by=who.person,
        registered_at=now(),
        registered_in=env.name,
        source_uri=(lineage or {}).get("source") or (artifact if adopt else str(Path(artifact).resolve())),
        lineage=lineage,
        baseline=baselines.digests(baseline) if baseline else None,
    )
    what = f"{env.name}: registering {model} {version}"
    args = (bucket, manifest.key, digest.size, digest.part_size, aws.encryption_args())
    with progress(f"{'copying' if adopt else 'uploading'} {filename}", digest.size) as advance:
        if adopt:
            transfer.copy(aws.s3, (src_bucket, src_key), *args, advance, what)
        else:
            transfer.upload(aws.s3, artifact, *args, advance, what)
    artifacts.verify(aws.s3, bucket, manifest.key, digest, what)
    if baseline is not None and manifest.baseline is not None:
        baselines.write(aws, model, version, baseline, manifest.baseline)
    uri = manifest.uri(bucket)
    manifest.model_package_arn = packages.ensure(aws, manifest, uri)
    manifests.write(aws, manifest)
    Ledger(aws).append(
        Entry(
            action="register",
            model=model,
            version=version,
            env=env.name,
            by=manifest.registered_by,
            at=manifest.registered_at,
            uri=uri,
            sha256=manifest.sha256,
            image=image,
            identity=who.arn,
            lineage=lineage,
        )
    )
    return Registered(manifest, uri, env.name, baselines.uri(bucket, model, version) if baseline else None)


def _hash_s3(aws: Aws, bucket: str, key: str, part: int, progress: ProgressFactory) -> artifacts.Digest:
    """Adopting reads the object once to hash it: the registry records a SHA-256 it computed itself."""
    with aws_errors(f"{aws.env.name}: reading s3://{bucket}/{key}"):
        try:
            response = aws.s3.get_object(Bucket=bucket, Key=key)
        except aws.s3.exceptions.ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NoSuchBucket"):
                raise PromotionError(f"s3://{bucket}/{key}: artifact not found") from None
            raise
        size = int(response["ContentLength"])
        with progress(f"hashing s3://{bucket}/{key}", size) as advance:
            return artifacts.hash_stream(response["Body"], size, part, advance)


def _claim(aws: Aws, model: str, version: str | None) -> str:
    """Reserve a version number with an If-None-Match write, so concurrent registrations differ."""
    for _attempt in range(20):
        if version is None:
            numbers = [int(v) for v in manifests.versions(aws, model) if v.isdigit()]
            candidate = str(max(numbers, default=0) + 1)
        else:
            candidate = version
        key = naming.version_claim_key(model, candidate)
        with aws_errors(f"{aws.env.name}: claiming {model} version {candidate}"):
            try:
                aws.s3.put_object(Bucket=aws.registry_bucket, Key=key, Body=b"", IfNoneMatch="*")
                return candidate
            except aws.s3.exceptions.ClientError as exc:
                if error_code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                    raise
        if version is not None:
            raise PromotionError(f"{aws.env.name}: {model} version {version} is already registered")
    raise PromotionError(f"{aws.env.name}: could not claim a version number for {model}; run again")
