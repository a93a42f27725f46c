"""ExperimentTracker with backend="wandb": Weights & Biases settings and API key for training jobs.

Nothing runs on the platform's side: each consuming TrainingCluster's jobs get `WANDB_BASE_URL`,
`WANDB_ENTITY` and `WANDB_PROJECT`, and `WANDB_API_KEY` from a Kubernetes Secret in their own
namespace, by reference. With `SecretRef(kubernetes_secret=...)` that Secret is the team's own.
With `SecretRef(aws_secret=...)` it is synced from Secrets Manager by the External Secrets
Operator, authenticating as the jobs' service account, whose IAM role alone is granted
`secretsmanager:GetSecretValue` on that one secret: only the jobs that need the key can read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from mlplatform import naming
from mlplatform.components import tracking_wiring
from mlplatform.components.aws.experiment_tracker import grant_secret_read, secret_arn_pattern
from mlplatform.components.k8s.synced_secret import SyncedSecretArgs, synced_secret
from mlplatform.components.tracking_wiring import JobTarget, TrackingWiring
from mlplatform.errors import MlplatformError
from mlplatform.spec.experiment_tracker import ExperimentTracker as TrackerSpec

API_KEY_VAR = "WANDB_API_KEY"


@dataclass
class WandbArgs:
    spec: TrackerSpec
    names: naming.Names
    targets: list[JobTarget]
    region: str
    account_id: str
    partition: str = "aws"


class WandbTracker(pulumi.ComponentResource):
    """Outputs: `base_url`, `entity`, `project`, `api_key_secret` (where the key is, never the key)."""

    def __init__(self, name: str, args: WandbArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:k8s:WandbTracker", name, None, opts)
        spec = args.spec
        key = spec.api_key
        assert key is not None  # validation requires it for backend="wandb"
        self.wirings: list[TrackingWiring] = []
        for t in args.targets:
            wiring = tracking_wiring.wandb(spec, t.cluster)
            if key.aws_secret is not None:
                if t.role is None:
                    raise MlplatformError(
                        f"ExperimentTracker '{spec.name}': TrainingCluster '{t.cluster}' has no IAM role for its "
                        f"jobs to read Secrets Manager with; use SecretRef(kubernetes_secret=...)"
                    )
                arn = secret_arn_pattern(key.aws_secret, args.region, args.account_id, args.partition)
                grant_secret_read(self, f"{name}-{t.cluster}-read-key", t.role, arn)
                ref = wiring.secret_env[API_KEY_VAR]
                synced_secret(
                    self,
                    f"{name}-{t.cluster}-key",
                    SyncedSecretArgs(
                        namespace=t.namespace,
                        secret_name=ref.secret,
                        remote_key=key.aws_secret,
                        region=args.region,
                        service_account=t.service_account,
                        value_key=ref.key,
                    ),
                    pulumi.ResourceOptions(parent=self, provider=t.provider, depends_on=t.depends_on),
                )
            self.wirings.append(wiring)
        where = (
            key.aws_secret and f"secretsmanager:{key.aws_secret}"
        ) or f"kubernetes:{key.kubernetes_secret}/{key.key}"
        self.register_outputs(
            {"base_url": spec.base_url, "entity": spec.entity, "project": spec.project, "api_key_secret": where}
        )
