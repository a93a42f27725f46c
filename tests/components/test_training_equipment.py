"""Training that runs, on both examples' prod plans: a GPU pod can be scheduled (device plugin,
autoscaler, matching taints and tolerations), Kueue queues carry the blueprint's Quota, the
Trainer runtimes are hardened, every custom resource is valid against the upstream CRDs with
unknown fields refused, and every chart is pinned."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from mlplatform.blueprint import load
from mlplatform.components import charts
from mlplatform.components.aws.karpenter import controller_statements
from mlplatform.components.k8s import common, training_queues, training_runtimes
from mlplatform.plan.engine import Captured
from mlplatform.plan.model import PlannedResource
from tests.components.conftest import ROOT, run_promoted, run_stack
from tests.components.k8s import manifests
from tests.components.k8s.test_namespace_policies import admit

STACKS = {"fraud": ("dev", "staging", "prod"), "recs": ("recs-dev", "recs-staging", "recs-prod")}
BLUEPRINTS = {"fraud": "fraud_detection.py", "recs": "recommender_k8s.py"}
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture(scope="module")
def plans() -> dict[str, Captured]:
    # The fraud stacks as committed; the recommender's with its sample promoted models (stacks/samples/).
    fraud = {stack: run_stack(stack) for stack in STACKS["fraud"]}
    return fraud | {stack: run_promoted(stack) for stack in STACKS["recs"]}


def of_kind(captured: Captured, kind: str) -> list[dict[str, Any]]:
    return [
        manifests.render(r)
        for r in captured.resources
        if manifests.is_kubernetes_object(r) and r.type.rsplit(":", 1)[-1] == kind
    ]


def releases(captured: Captured) -> dict[str, PlannedResource]:
    """The training equipment's releases (an ExperimentTracker's MLflow release is not equipment)."""
    return {
        r.inputs["name"]: r
        for r in captured.resources
        if r.type == RELEASE and r.inputs["chart"] != charts.MLFLOW.chart
    }


def _env(stack: str) -> str:
    return stack.removeprefix("recs-")


@pytest.mark.parametrize("stack", ["prod", "recs-prod"])
def test_a_gpu_pod_can_be_scheduled(plans: dict[str, Captured], stack: str) -> None:
    # EKS user guide (AL2023 accelerated AMIs): the NVIDIA device plugin must be installed for
    # nvidia.com/gpu to be allocatable; the chart's default tolerations and node affinity must
    # match the GPU nodes' taint and labels.
    captured = plans[stack]
    plugin = releases(captured)["nvidia-device-plugin"]
    assert (plugin.inputs["chart"], plugin.inputs["version"]) == ("nvidia-device-plugin", "0.20.0")
    assert plugin.inputs["repositoryOpts"]["repo"] == "https://nvidia.github.io/k8s-device-plugin"
    assert plugin.inputs["namespace"] == "kube-system"  # the chart refuses the default namespace
    # What the chart's default values tolerate and select (deployments/helm values.yaml, 0.20.0).
    chart_tolerates = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    chart_selects = ("nvidia.com/gpu.present", "true")
    runtime = next(m for m in of_kind(captured, "TrainingRuntime") if m["metadata"]["name"] == "torch-distributed")
    pod = runtime["spec"]["template"]["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["tolerations"] == [chart_tolerates]
    assert pod["nodeSelector"] == {chart_selects[0]: chart_selects[1]}
    # Karpenter (docs, NodePool): the GPU pool's nodes carry the taint the pod tolerates and the
    # label the device plugin selects, and scale from zero up to max_nodes; on the Kubernetes
    # example they are NodePools of the cluster's declared Karpenter, launched with its node role.
    pool = next(m for m in of_kind(captured, "NodePool") if m["metadata"]["name"].endswith("-gpu"))
    template = pool["spec"]["template"]
    assert template["spec"]["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    assert template["metadata"]["labels"][chart_selects[0]] == chart_selects[1]
    assert pool["spec"]["limits"] == {"nodes": "16" if stack == "prod" else "8"}
    if stack == "prod":
        assert releases(captured)["karpenter"].inputs["version"] == charts.KARPENTER.version
    else:
        node_class = next(m for m in of_kind(captured, "EC2NodeClass") if m["metadata"]["name"].endswith("-gpu"))
        assert node_class["spec"]["role"] == "KarpenterNodeRole-recs-prod"
        assert node_class["spec"]["subnetSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": "recs-prod"}}]
    # A taint without a matching toleration would keep the pod off every node.
    taint = template["spec"]["taints"][0]
    assert any(t["key"] == taint["key"] and t["effect"] == taint["effect"] for t in pod["tolerations"])


@pytest.mark.parametrize("stack", [s for stacks in STACKS.values() for s in stacks])
def test_every_custom_resource_is_valid_against_the_upstream_crds(plans: dict[str, Captured], stack: str) -> None:
    # The upstream CRDs in shared/crds, closed to unknown fields: the API server would prune them.
    kinds = ("ResourceFlavor", "ClusterQueue", "LocalQueue", "WorkloadPriorityClass", "TrainingRuntime")
    kinds += ("NodePool", "EC2NodeClass")
    for kind in kinds:
        found = of_kind(plans[stack], kind)
        assert found, f"{stack}: no {kind}"
        for manifest in found:
            assert manifests.validate(manifest) == "crd", kind


def test_unknown_fields_are_refused() -> None:
    job = training_runtimes.train_job(
        name="x",
        namespace="ns",
        runtime="torch-distributed",
        image="repo/img:1.0",
        command=["python", "train.py"],
        nodes=2,
        resources=training_runtimes.GPU_DEFAULTS,
    )
    manifests.validate(job)
    job["spec"]["trainer"]["numNode"] = 2
    with pytest.raises(jsonschema.ValidationError):
        manifests.validate(job)


@pytest.mark.parametrize("blueprint", sorted(BLUEPRINTS))
def test_cluster_queue_quotas_equal_the_blueprints_quota_in_every_environment(
    plans: dict[str, Captured], blueprint: str
) -> None:
    # Kueue ClusterQueue (docs, "Cluster Queue"): nominal quotas are per flavor; summed over the
    # flavors they must equal the blueprint's Quota, GPUs only on GPU flavors.
    platform_bp = load(ROOT / "blueprints" / BLUEPRINTS[blueprint])
    for stack in STACKS[blueprint]:
        spec = next(c for c in platform_bp.resolve(_env(stack)).components if c.kind == "TrainingCluster")
        (queue,) = of_kind(plans[stack], "ClusterQueue")
        totals: dict[str, int] = {}
        for flavor in queue["spec"]["resourceGroups"][0]["flavors"]:
            for r in flavor["resources"]:
                value = str(r["nominalQuota"]).removesuffix("Gi")
                totals[r["name"]] = totals.get(r["name"], 0) + int(value)
                if r["name"] == "nvidia.com/gpu" and int(value):
                    assert "-gpu" in flavor["name"], flavor["name"]
        assert totals == {"cpu": spec.quota.cpu, "memory": spec.quota.memory_gb, "nvidia.com/gpu": spec.quota.gpus}
        ns = queue["spec"]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        (local,) = of_kind(plans[stack], "LocalQueue")
        assert (local["metadata"]["namespace"], local["spec"]["clusterQueue"]) == (ns, queue["metadata"]["name"])
        # Kueue's default LocalQueue: jobs without a queue label in the namespace get this one.
        assert local["metadata"]["name"] == "default"


def test_gpu_flavor_admits_only_workloads_that_tolerate_the_gpu_taint(plans: dict[str, Captured]) -> None:
    # Kueue ResourceFlavor nodeTaints (CRD docs): only podsets tolerating them get the flavor,
    # so CPU jobs are never admitted onto GPU nodes.
    for stack in ("prod", "recs-prod"):
        flavors = {m["metadata"]["name"]: m["spec"] for m in of_kind(plans[stack], "ResourceFlavor")}
        gpu = [spec for name, spec in flavors.items() if "-gpu" in name]
        assert gpu and all(s["nodeTaints"] == [training_queues.GPU_TAINT] for s in gpu), flavors
        assert all("nodeTaints" not in s for name, s in flavors.items() if "-cpu" in name)


def test_split_adds_up_exactly() -> None:
    assert training_queues.split(16, [2, 16]) == [2, 14]
    assert training_queues.split(7, [1, 1, 1]) == [3, 2, 2]
    assert sum(training_queues.split(513, [6, 4])) == 513
    assert training_queues.split(5, []) == []


@pytest.mark.parametrize("stack", ["prod", "recs-prod"])
def test_runtimes_are_hardened_and_run_as_the_training_identity(plans: dict[str, Captured], stack: str) -> None:
    runtimes = {m["metadata"]["name"]: m for m in of_kind(plans[stack], "TrainingRuntime")}
    assert set(runtimes) == {"torch-distributed", "torch-single-node"}
    assert runtimes["torch-distributed"]["spec"]["mlPolicy"]["numNodes"] == 2
    assert runtimes["torch-single-node"]["spec"]["mlPolicy"]["numNodes"] == 1
    for runtime in runtimes.values():
        job = runtime["spec"]["template"]["spec"]["replicatedJobs"][0]
        # Kubeflow Trainer's torch plugin drives the replicated job `node` of the trainer step.
        assert job["name"] == "node"
        assert job["template"]["metadata"]["labels"]["trainer.kubeflow.org/trainjob-ancestor-step"] == "trainer"
        pod = job["template"]["spec"]["template"]["spec"]
        # Karpenter docs ("Disruption", pod-level controls): nodes under such pods are not disrupted.
        assert job["template"]["spec"]["template"]["metadata"]["annotations"] == {"karpenter.sh/do-not-disrupt": "true"}
        (container,) = pod["containers"]
        security = container["securityContext"]
        assert security["runAsNonRoot"] and security["readOnlyRootFilesystem"]
        assert security["allowPrivilegeEscalation"] is False and security["capabilities"] == {"drop": ["ALL"]}
        assert container["resources"]["requests"] == container["resources"]["limits"]
        assert {v["name"] for v in pod["volumes"]} == {"tmp", "dshm"}
        assert pod["priorityClassName"].endswith("train") or pod["priorityClassName"].endswith("-training")
        assert pod["serviceAccountName"] in ("train-jobs", f"recs-{_env(stack)}-train-jobs")


@pytest.mark.parametrize("stack", ["prod", "recs-prod"])
def test_runtime_pods_and_rendered_jobs_pass_the_namespace_limits_below_serving(
    plans: dict[str, Captured], stack: str
) -> None:
    # Kubernetes "Limit Ranges" (LimitRanger defaulting and validation, emulated in
    # test_namespace_policies.admit) and "Pod Priority and Preemption": the runtimes' nodes, a TrainJob
    # with the CLI's defaults and an ordinary requests-only container are admitted in the training
    # namespace; the training PriorityClass is below the serving one and never preempts.
    captured = plans[stack]
    (limits,) = [r for r in captured.resources if r.type == "kubernetes:core/v1:LimitRange"]  # the training namespace's
    (item,) = limits.inputs["spec"]["limits"]
    defaults = training_runtimes.GPU_DEFAULTS.as_resources()
    ordinary = {"requests": {"cpu": "8", "memory": "32Gi"}}
    for runtime in of_kind(captured, "TrainingRuntime"):
        job = runtime["spec"]["template"]["spec"]["replicatedJobs"][0]
        (container,) = job["template"]["spec"]["template"]["spec"]["containers"]
        for resources in (container["resources"], defaults, ordinary):
            plain = {k: {r: v for r, v in q.items() if r != "nvidia.com/gpu"} for k, q in resources.items()}
            ok, why, _ = admit(plain, item)
            assert ok, (runtime["metadata"]["name"], why)
    classes = {
        r.inputs["metadata"]["name"]: r.inputs
        for r in captured.resources
        if r.type == "kubernetes:scheduling.k8s.io/v1:PriorityClass"
    }
    pod = of_kind(captured, "TrainingRuntime")[0]["spec"]["template"]["spec"]["replicatedJobs"][0]
    training = classes[pod["template"]["spec"]["template"]["spec"]["priorityClassName"]]
    assert (training["value"], training["preemptionPolicy"]) == (common.TRAINING_PRIORITY, "Never")
    assert common.TRAINING_PRIORITY < common.SERVING_PRIORITY
    serving = [c for name, c in classes.items() if name.endswith("-serving")]
    assert all(c["value"] == common.SERVING_PRIORITY for c in serving)
    assert bool(serving) == stack.startswith("recs")  # the AWS example serves on SageMaker, not in the cluster


@pytest.mark.parametrize("stack", ["prod", "recs-prod"])
def test_every_chart_is_pinned_and_images_too(plans: dict[str, Captured], stack: str) -> None:
    found = releases(plans[stack])
    expected = {"nvidia-device-plugin", "kueue", "kubeflow-trainer"} | ({"karpenter"} if stack == "prod" else set())
    assert set(found) == expected
    pins = {c.release: c for c in charts.ALL_CHARTS}
    for name, release in found.items():
        # Helm: a version constraint or an omitted version resolves to whatever is newest.
        assert release.inputs["version"] == pins[name].version
        assert release.inputs["chart"] == pins[name].chart
        assert release.inputs["version"][0].isdigit() and not set("^~*><= ") & set(release.inputs["version"])
    kueue = found["kueue"].inputs["values"]["controllerManager"]["manager"]["image"]
    assert (kueue["repository"], kueue["tag"], kueue["pullPolicy"]) == (
        "registry.k8s.io/kueue/kueue",
        "v0.19.2",
        "IfNotPresent",
    )
    trainer = found["kubeflow-trainer"].inputs["values"]
    assert trainer["image"]["tag"] == "v2.3.0" and trainer["jobset"]["image"]["tag"] == "v0.12.0"
    # Kueue only manages jobs of the integrations it enables: TrainJob and JobSet among them.
    config = found["kueue"].inputs["values"]["managerConfig"]["controllerManagerConfigYaml"]
    assert '"trainer.kubeflow.org/trainjob"' in config and '"jobset.x-k8s.io/jobset"' in config
    # Kueue starts its integrations for the CRDs present: it is installed after the Trainer.
    assert found["kubeflow-trainer"].urn in found["kueue"].dependencies


def test_eks_addons_and_their_order(plans: dict[str, Captured]) -> None:
    # terraform-aws-eks (main.tf, `before_compute`): the CNI and kube-proxy before the node
    # groups, Deployments after; vpc-cni's enableNetworkPolicy turns on NetworkPolicy enforcement
    # (EKS user guide, "Configure your cluster for Kubernetes network policies").
    captured = plans["prod"]
    addons = {r.inputs["addonName"]: r for r in captured.resources if r.type == "aws:eks/addon:Addon"}
    assert set(addons) == {
        "vpc-cni",
        "kube-proxy",
        "eks-pod-identity-agent",
        "coredns",
        "aws-ebs-csi-driver",
        "metrics-server",
        "amazon-cloudwatch-observability",  # Container Insights for the training alarms
    }
    assert json.loads(addons["vpc-cni"].inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
    groups = [r for r in captured.resources if r.type == "aws:eks/nodeGroup:NodeGroup"]
    for group in groups:
        for before in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
            assert addons[before].urn in group.dependencies, (group.name, before)
    assert addons["coredns"].urn in addons["amazon-cloudwatch-observability"].dependencies
    for after in ("coredns", "aws-ebs-csi-driver", "metrics-server", "amazon-cloudwatch-observability"):
        assert {g.urn for g in groups} <= set(addons[after].dependencies), after
        assert addons[after].inputs["addonVersion"] == "mock-eks-default-for-1.33"  # resolved at deploy time
    cluster = next(r for r in captured.resources if r.type == "aws:eks/cluster:Cluster")
    assert cluster.inputs["bootstrapSelfManagedAddons"] is False
    # EBS CSI driver IAM role (EBS CSI driver docs): IRSA for kube-system:ebs-csi-controller-sa.
    role = next(r for r in captured.resources if r.name == "train-ebs-csi-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert "system:serviceaccount:kube-system:ebs-csi-controller-sa" in trust["Condition"]["StringEquals"].values()
    assert addons["aws-ebs-csi-driver"].inputs["serviceAccountRoleArn"].endswith(":role/fraud-prod-train-ebs-csi")


def test_karpenter_controller_policy_is_the_documented_one(plans: dict[str, Captured]) -> None:
    # Karpenter getting-started CloudFormation template (v1.14): every statement, scoped to the cluster.
    captured = plans["prod"]
    policy = json.loads(
        next(r for r in captured.resources if r.name == "train-karpenter-controller-policy").inputs["policy"]
    )
    sids = [s["Sid"] for s in policy["Statement"]]
    assert sids == [s["Sid"] for s in controller_statements("c", "r", "q", "1", "us-east-1", "aws")]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    owned = "aws:ResourceTag/kubernetes.io/cluster/fraud-prod-train"
    assert by_sid["AllowScopedDeletion"]["Condition"]["StringEquals"] == {owned: "owned"}
    assert by_sid["AllowPassingInstanceRole"]["Resource"].endswith(":role/fraud-prod-train-karpenter-nodes")
    assert by_sid["AllowInterruptionQueueActions"]["Action"] == [
        "sqs:DeleteMessage",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
    ]
    assert by_sid["AllowAPIServerEndpointDiscovery"]["Resource"].endswith(":cluster/fraud-prod-train")
    assert not [s for s in policy["Statement"] if s["Action"] == "*" or s["Action"] == ["*"]]
    # The interruption queue: the rules of the template feed it, and it refuses plain HTTP.
    rules = {
        json.loads(r.inputs["eventPattern"])["detail-type"][0]
        for r in captured.resources
        if r.type == "aws:cloudwatch/eventRule:EventRule" and r.name.startswith("train-karpenter-")
    }
    assert rules == {
        "AWS Health Event",
        "EC2 Spot Instance Interruption Warning",
        "EC2 Instance Rebalance Recommendation",
        "EC2 Instance State-change Notification",
        "EC2 Capacity Reservation Instance Interruption Warning",
    }
    queue_policy = json.loads(
        next(r for r in captured.resources if r.name == "train-karpenter-interruptions-policy").inputs["policy"]
    )
    assert queue_policy["Statement"][1]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Karpenter nodes join through an EKS access entry of type EC2_LINUX (EKS user guide, access entries).
    access = next(r for r in captured.resources if r.type == "aws:eks/accessEntry:AccessEntry")
    assert access.inputs["type"] == "EC2_LINUX"
    release = releases(captured)["karpenter"].inputs["values"]
    assert release["settings"]["interruptionQueue"] == "fraud-prod-train-karpenter"
    assert release["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(
        ":role/fraud-prod-train-karpenter"
    )
