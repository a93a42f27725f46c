"""SageMaker model packages: each registered or promoted version is a package in the
environment's model package group, and approval is its ModelApprovalStatus."""

from __future__ import annotations

from typing import Any

from mlplatform import naming
from mlplatform.promotion.aws import Aws, aws_errors
from mlplatform.promotion.errors import PromotionError
from mlplatform.promotion.manifest import Manifest

APPROVED = "Approved"
REJECTED = "Rejected"
PENDING = "PendingManualApproval"


def find(aws: Aws, model: str, version: str) -> dict[str, Any] | None:
    """The described package of `version` in the environment's group, or None. Two packages
    claiming one version mean one was not created by mlplatform: that stops the command."""
    group = aws.model_package_group(model)
    sm = aws.client("sagemaker")
    found: list[dict[str, Any]] = []
    with aws_errors(f"{aws.env.name}: listing model package group {group}"):
        for page in sm.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group):
            for summary in page.get("ModelPackageSummaryList", []):
                described = sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
                props = described.get("CustomerMetadataProperties") or {}
                if props.get(naming.MODEL_PACKAGE_VERSION_PROPERTY) == version:
                    found.append(dict(described))
    if len(found) > 1:
        arns = ", ".join(f"{p['ModelPackageArn']} ({p.get('ModelApprovalStatus')})" for p in found)
        raise PromotionError(
            f"{aws.env.name}: {len(found)} model packages in {group} claim to be {model} {version}: {arns}; "
            "mlplatform creates one per version, so the others were created by hand: investigate and delete them"
        )
    return found[0] if found else None


def ensure(aws: Aws, manifest: Manifest, uri: str) -> str:
    """The package ARN of the manifest's version, created (pending approval) if missing."""
    existing = find(aws, manifest.model, manifest.version)
    if existing:
        containers = (existing.get("InferenceSpecification") or {}).get("Containers") or [{}]
        found = (
            containers[0].get("Image"),
            containers[0].get("ModelDataUrl"),
            (existing.get("CustomerMetadataProperties") or {}).get("mlplatform-sha256"),
        )
        if found != (manifest.image, uri, manifest.sha256):
            raise PromotionError(
                f"{aws.env.name}: model package {existing['ModelPackageArn']} says it is {manifest.model} "
                f"{manifest.version} but names image {found[0]}, data {found[1]}, sha256 {found[2]}: it was not "
                "created by mlplatform for these bytes; investigate before promoting"
            )
        return str(existing["ModelPackageArn"])
    group = aws.model_package_group(manifest.model)
    with aws_errors(f"{aws.env.name}: creating a model package in {group}"):
        created = aws.client("sagemaker").create_model_package(
            ModelPackageGroupName=group,
            ModelPackageDescription=f"{manifest.model} version {manifest.version} (sha256 {manifest.sha256})",
            InferenceSpecification={
                "Containers": [{"Image": manifest.image, "ModelDataUrl": uri}],
                "SupportedContentTypes": ["application/json", "text/csv"],
                "SupportedResponseMIMETypes": ["application/json", "text/csv"],
            },
            ModelApprovalStatus=PENDING,
            CustomerMetadataProperties=_properties(manifest),
        )
    return str(created["ModelPackageArn"])


def status(aws: Aws, model: str, version: str) -> str | None:
    found = find(aws, model, version)
    return str(found.get("ModelApprovalStatus")) if found else None


def set_status(aws: Aws, model: str, version: str, value: str, description: str) -> str:
    found = find(aws, model, version)
    if not found:
        raise PromotionError(
            f"{aws.env.name}: {model} version {version} has no model package in "
            f"{aws.model_package_group(model)}; promote it to {aws.env.name} first"
        )
    props = dict(found.get("CustomerMetadataProperties") or {})
    with aws_errors(f"{aws.env.name}: updating model package {found['ModelPackageArn']}"):
        aws.client("sagemaker").update_model_package(
            ModelPackageArn=found["ModelPackageArn"],
            ModelApprovalStatus=value,
            ApprovalDescription=description[:1000],
            CustomerMetadataProperties=props,  # some implementations replace, not merge
        )
    return str(found["ModelPackageArn"])


def _properties(manifest: Manifest) -> dict[str, str]:
    return {
        naming.MODEL_PACKAGE_VERSION_PROPERTY: manifest.version,
        "mlplatform-sha256": manifest.sha256,
        "mlplatform-git-commit": manifest.git_commit or "unknown",
    }
