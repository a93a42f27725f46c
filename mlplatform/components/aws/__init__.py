"""Components on pulumi-aws.

`build(ctx)` creates the platform core, the network when AWS compute needs one, then every
component whose target is aws, sagemaker or eks, and publishes in `ctx.shared` what the
Kubernetes side and other components use:

- "core" (PlatformCore), "kms_key" (aws.kms.Key), "registry_bucket" (aws.s3.Bucket),
  "access_logs_bucket" (bucket name, an Output), "account_id", "region", "partition"
- "network" (Network or None)
- "feature_stores"[name], "training_clusters"[name], "endpoints"[name], "monitoring"[name]
- "kubernetes_providers"[training cluster name]: the pulumi_kubernetes Provider of an EKS cluster
- "opt_outs": list of (component, opt-out) the plan reports

A kubernetes FeatureStore reuses the S3 offline store through
`mlplatform.components.aws.feature_store.offline_store`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlplatform.context import ProgramContext


def build(ctx: ProgramContext) -> None:
    """Platform core, network, and the components whose target is aws, sagemaker or eks."""
    from mlplatform.components.aws._build import build as _build

    _build(ctx)
