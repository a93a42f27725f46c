"""A version's data-quality baseline: registered with it, promoted with it, never rewritten.

A Model Monitor data-quality schedule compares captured requests with a baseline, the
`statistics.json` and `constraints.json` that Model Monitor's baselining job writes (SageMaker
Developer Guide, "Create a Baseline", "Schema for Statistics", "Schema for Constraints"); without
one it flags nothing. `register --baseline` stores both files under the version's prefix
(naming.baseline_prefix), write-once like the artifact, and records their SHA-256 in the manifest;
`promote` copies them into the target registry, checks the bytes, and names the prefix in the stack
file (`mlplatform:models.<model>.baseline`), which the monitoring schedule reads.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from mlplatform import naming
from mlplatform.promotion import transfer
from mlplatform.promotion.aws import Aws, aws_errors, error_code
from mlplatform.promotion.errors import PromotionError

Files = dict[str, bytes]  # file name (naming.BASELINE_FILES) -> bytes


def _check(name: str, body: bytes, where: str) -> None:
    """Both files are JSON objects with a `features` list of named features (the schemas above)."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise PromotionError(f"{where}: {name} is not valid JSON: {exc}") from None
    features = data.get("features") if isinstance(data, dict) else None
    named = isinstance(features, list) and all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in features)
    if not named:
        raise PromotionError(
            f"{where}: {name} is not a Model Monitor baseline file: expected a JSON object with a 'features' list "
            'of {"name": ...} entries (the output of a baselining job, e.g. DefaultModelMonitor.suggest_baseline)'
        )


def read(source: str, aws: Aws) -> Files:
    """The baseline files from a local folder or an s3:// prefix, checked."""
    files: Files = {}
    if source.startswith("s3://"):
        bucket, _, prefix = source[len("s3://") :].partition("/")
        prefix = prefix if not prefix or prefix.endswith("/") else f"{prefix}/"
        for name in naming.BASELINE_FILES:
            body = _get(aws, bucket, f"{prefix}{name}")
            if body is None:
                raise PromotionError(f"{source}: baseline has no {name}")
            files[name] = body
    else:
        folder = Path(source)
        if not folder.is_dir():
            raise PromotionError(
                f"{source}: baseline folder not found (a folder, or an s3:// prefix, holding "
                f"{' and '.join(naming.BASELINE_FILES)})"
            )
        for name in naming.BASELINE_FILES:
            path = folder / name
            if not path.is_file():
                raise PromotionError(f"{source}: baseline has no {name}")
            files[name] = path.read_bytes()
    for name, body in files.items():
        _check(name, body, source)
    return files


def digests(files: Files) -> dict[str, str]:
    return {name: hashlib.sha256(body).hexdigest() for name, body in sorted(files.items())}


def uri(bucket: str, model: str, version: str) -> str:
    """The s3:// prefix a stack file names (`mlplatform:models.<model>.baseline`)."""
    return f"s3://{bucket}/{naming.baseline_prefix(model, version)}"


def _get(aws: Aws, bucket: str, key: str) -> bytes | None:
    """An object's bytes, read with `aws`'s credentials; None if the key or bucket is not there."""
    with aws_errors(f"{aws.env.name}: reading s3://{bucket}/{key}"):
        try:
            return bytes(aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except aws.s3.exceptions.ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NotFound", "NoSuchBucket"):
                return None
            raise


def write(aws: Aws, model: str, version: str, files: Files, expected: dict[str, str]) -> None:
    """Write each file once under the version's prefix; a file already there with the expected
    SHA-256 (a re-run) is kept, any other is refused."""
    for name in naming.BASELINE_FILES:
        key = f"{naming.baseline_prefix(model, version)}{name}"
        what = f"{aws.env.name}: writing s3://{aws.registry_bucket}/{key}"
        if transfer.put_once(aws.s3, aws.registry_bucket, key, files[name], aws.encryption_args(), what):
            continue
        if fetch(aws, aws.registry_bucket, model, version, name) != expected[name]:
            raise PromotionError(
                f"{aws.env.name}: s3://{aws.registry_bucket}/{key} already exists with other bytes than {model} "
                f"{version}'s baseline; registry keys are write-once: investigate"
            )


def fetch(aws: Aws, bucket: str, model: str, version: str, name: str) -> str | None:
    """SHA-256 of one baseline file in `bucket`, or None if it is not there."""
    body = _get(aws, bucket, f"{naming.baseline_prefix(model, version)}{name}")
    return None if body is None else hashlib.sha256(body).hexdigest()


def copy(src: Aws, dst: Aws, model: str, version: str, expected: dict[str, str]) -> None:
    """Copy a version's baseline into the target registry (read with the target's promoter, as the
    artifact's server-side copy is), checking every byte against the manifest."""
    files: Files = {}
    for name in naming.BASELINE_FILES:
        key = f"{naming.baseline_prefix(model, version)}{name}"
        body = _get(dst, src.registry_bucket, key)
        if body is None:
            raise PromotionError(
                f"{src.env.name}: {model} {version}'s manifest records a baseline, and "
                f"s3://{src.registry_bucket}/{key} is missing"
            )
        files[name] = body
    found = digests(files)
    for name, digest in expected.items():
        if found.get(name) != digest:
            raise PromotionError(
                f"{src.env.name}: {model} {version}'s baseline {name} has SHA-256 {found.get(name)}, not the "
                f"{digest} its manifest records: the baseline changed after registration"
            )
    write(dst, model, version, files, expected)
