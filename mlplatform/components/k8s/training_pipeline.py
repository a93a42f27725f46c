"""TrainingPipeline on Kubernetes: a CronJob that starts a TrainJob on a TrainingCluster's runtime.

In the TrainingCluster's namespace: a ConfigMap with the TrainJob (the runtime, image, command,
nodes and resources of the train step, queued in the namespace's LocalQueue like any TrainJob),
a ServiceAccount whose Role may only list and create TrainJobs in that namespace, and a CronJob
on the schedule (UTC, `concurrencyPolicy: Forbid`) whose container, non-root with limits, runs
`python3 -m mlplatform.promotion.pipeline_steps start-trainjob`: it creates the TrainJob from the
manifest unless one the pipeline started is still running (one run at a time). The training job
registers its result itself (`mlplatform register`). Alert-driven triggers are AWS-only for now.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from mlplatform import naming
from mlplatform.components import charts
from mlplatform.components.k8s import common, training_runtimes
from mlplatform.spec import schedules
from mlplatform.spec.training_cluster import TrainingCluster as ClusterSpec
from mlplatform.spec.training_pipeline import TrainingPipeline as PipelineSpec

if TYPE_CHECKING:
    from mlplatform.context import ProgramContext

MANIFEST_DIR = "/etc/mlplatform"
MANIFEST_FILE = "trainjob.json"
PIPELINE_LABEL = f"{common.LABEL_PREFIX}/pipeline"


@dataclass
class KubernetesPipelineArgs:
    spec: PipelineSpec
    names: naming.Names
    namespace: str
    gpu: bool  # the cluster's quota grants GPUs: the runtimes' default node resources follow
    labels: dict[str, str] = field(default_factory=dict)
    depends_on: list[pulumi.Resource] = field(default_factory=list)


def trainjob(a: KubernetesPipelineArgs) -> dict[str, Any]:
    """The TrainJob each run creates: generateName, so every run is a new object."""
    t = a.spec.train
    runtime = t.runtime or training_runtimes.SINGLE_NODE
    defaults = training_runtimes.GPU_DEFAULTS if a.gpu else training_runtimes.CPU_DEFAULTS
    job = training_runtimes.train_job(
        name=a.names.pipeline(a.spec.name),
        namespace=a.namespace,
        runtime=runtime,
        image=t.image,
        command=list(t.command),
        nodes=t.instance_count if runtime == training_runtimes.DISTRIBUTED else 1,
        resources=defaults,
        labels={**a.labels, PIPELINE_LABEL: common.label_value(a.spec.name)},
    )
    metadata = job["metadata"]
    metadata["generateName"] = f"{metadata.pop('name')}-"
    if not t.command:
        del job["spec"]["trainer"]["command"]  # the image's own entrypoint
    return job


def launcher_pod(a: KubernetesPipelineArgs, account: str, config_map: str) -> dict[str, Any]:
    assert a.spec.launcher_image is not None
    return {
        "serviceAccountName": account,
        "restartPolicy": "Never",
        "securityContext": common.pod_security(),
        "containers": [
            {
                "name": "launcher",
                "image": a.spec.launcher_image,
                "command": [
                    "python3",
                    "-m",
                    "mlplatform.promotion.pipeline_steps",
                    "start-trainjob",
                    "--manifest",
                    f"{MANIFEST_DIR}/{MANIFEST_FILE}",
                ],
                "resources": common.resources("100m", "128Mi"),
                "securityContext": common.container_security(),
                "volumeMounts": [{"name": "manifest", "mountPath": MANIFEST_DIR, "readOnly": True}, common.tmp_mount()],
            }
        ],
        "volumes": [{"name": "manifest", "configMap": {"name": config_map}}, common.tmp_volume("64Mi")],
    }


class KubernetesPipeline(pulumi.ComponentResource):
    """Outputs: `cron_job`, `schedule` (the CronJob's), `namespace`."""

    def __init__(self, name: str, args: KubernetesPipelineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:k8s:TrainingPipeline", name, None, opts)
        a, spec, n = args, args.spec, args.names
        assert spec.schedule is not None
        schedule = schedules.kubernetes_schedule(spec.schedule)
        assert schedule is not None  # validation refuses expressions without an equivalent
        pipeline = n.pipeline(spec.name)
        opts_ns = pulumi.ResourceOptions(parent=self, depends_on=list(a.depends_on))
        meta = {"namespace": a.namespace, "labels": a.labels}
        account = k8s.core.v1.ServiceAccount(
            f"{name}-launcher",
            metadata={**meta, "name": f"{pipeline}-launcher"},
            automount_service_account_token=True,  # it calls the Kubernetes API, nothing else
            opts=opts_ns,
        )
        role = k8s.rbac.v1.Role(
            f"{name}-launcher-role",
            metadata={**meta, "name": f"{pipeline}-launcher"},
            rules=[
                {
                    "apiGroups": [charts.TRAINER_API.split("/")[0]],
                    "resources": ["trainjobs"],
                    "verbs": ["create", "list"],
                }
            ],
            opts=opts_ns,
        )
        k8s.rbac.v1.RoleBinding(
            f"{name}-launcher-binding",
            metadata={**meta, "name": f"{pipeline}-launcher"},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{pipeline}-launcher"},
            subjects=[{"kind": "ServiceAccount", "name": f"{pipeline}-launcher", "namespace": a.namespace}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*a.depends_on, role, account]),
        )
        config = k8s.core.v1.ConfigMap(
            f"{name}-trainjob",
            metadata={**meta, "name": f"{pipeline}-trainjob"},
            data={MANIFEST_FILE: json.dumps(trainjob(a), indent=2, sort_keys=True)},
            opts=opts_ns,
        )
        self.cron_job = k8s.batch.v1.CronJob(
            f"{name}-schedule",
            metadata={**meta, "name": pipeline},
            spec={
                "schedule": schedule,
                "timeZone": "Etc/UTC",
                "concurrencyPolicy": "Forbid",
                "startingDeadlineSeconds": 3600,
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "metadata": {"labels": a.labels},
                    "spec": {
                        "backoffLimit": 2,
                        "activeDeadlineSeconds": 600,
                        "template": {
                            "metadata": {"labels": a.labels},
                            "spec": launcher_pod(a, f"{pipeline}-launcher", f"{pipeline}-trainjob"),
                        },
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*a.depends_on, account, config]),
        )
        self.register_outputs({"cron_job": pipeline, "schedule": schedule, "namespace": a.namespace})


def build(ctx: ProgramContext) -> None:
    """The target="kubernetes" TrainingPipelines, on the clusters both sides published."""
    targets = ctx.shared.get("job_targets", {})
    clusters = {c.name: c for c in ctx.platform.of_kind(ClusterSpec)}
    for spec in ctx.platform.of_kind(PipelineSpec):
        if spec.target != "kubernetes" or spec.training_cluster is None:
            continue
        target = targets[spec.training_cluster]
        labels = {
            "app.kubernetes.io/name": common.label_value(spec.name),
            "app.kubernetes.io/component": "training-pipeline",
            "app.kubernetes.io/managed-by": common.MANAGED_BY,
        }
        KubernetesPipeline(
            spec.name,
            KubernetesPipelineArgs(
                spec=spec,
                names=ctx.names,
                namespace=target.namespace,
                gpu=clusters[spec.training_cluster].quota.gpus > 0,
                labels=labels,
                depends_on=list(target.depends_on),
            ),
            pulumi.ResourceOptions(provider=target.provider),
        )
