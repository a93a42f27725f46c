"""TrainingCluster, FeatureStore and MonitoringStack on Kubernetes."""

from __future__ import annotations

import json

from mlplatform.components.k8s import common
from mlplatform.spec.feature_store import FeatureStore
from mlplatform.spec.platform import KubernetesCluster
from mlplatform.spec.training_cluster import Quota, TrainingCluster
from tests.components.k8s import manifests
from tests.components.k8s.helpers import by_name, container, platform, run_k8s
from tests.components.k8s.test_manifests import assert_hardened

TRAIN = TrainingCluster(name="train", target="kubernetes", quota=Quota(gpus=4, cpu=32, memory_gb=128, pods=20))
STORE = FeatureStore(name="features", target="kubernetes", online_store="redis", redis_storage_gb=20)


def test_training_namespace_quota_and_limits() -> None:
    captured, _ = run_k8s(platform(TRAIN))
    assert by_name(captured, "train-namespace").inputs["metadata"]["name"] == "shop-dev-train"
    hard = by_name(captured, "train-quota").inputs["spec"]["hard"]
    # Requests only: a limits.* quota would make every container state limits, and with a
    # LimitRange defaulting the limit to its maximum one container would take the whole quota.
    assert hard == {"requests.cpu": "32", "requests.memory": "128Gi", "requests.nvidia.com/gpu": "4", "pods": "20"}
    limits = by_name(captured, "train-limits").inputs["spec"]["limits"]
    assert limits == [
        {
            "type": "Container",
            "defaultRequest": {"cpu": "500m", "memory": "1Gi"},
            "max": {"cpu": "32", "memory": "128Gi"},
        }
    ]
    priority = by_name(captured, "train-priority").inputs
    assert (priority["preemptionPolicy"], priority["globalDefault"], priority["value"]) == ("Never", False, 1000)


def test_training_role_is_limited_to_jobs_trainjobs_and_pod_logs_in_its_namespace() -> None:
    captured, _ = run_k8s(platform(TRAIN))
    role = by_name(captured, "train-runner-role")
    assert role.type == "kubernetes:rbac.authorization.k8s.io/v1:Role"  # not a ClusterRole
    assert role.inputs["metadata"]["namespace"] == "shop-dev-train"
    granted = {
        (g, r, v)
        for rule in role.inputs["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    assert {g for g, _, _ in granted} == {"batch", "", "trainer.kubeflow.org", "kueue.x-k8s.io"}
    assert {r for _, r, _ in granted} == {
        "jobs",
        "jobs/status",
        "pods",
        "pods/log",
        "trainjobs",
        "trainjobs/status",
        "workloads",
    }
    assert {v for g, r, v in granted if g == ""} == {"get", "list", "watch"}  # read-only on pods
    assert {v for g, r, v in granted if g == "kueue.x-k8s.io"} == {"get", "list", "watch"}  # sees its queue
    binding = by_name(captured, "train-runner-binding").inputs
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "shop-dev-train-runner",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "shop-dev-train-runner", "namespace": "shop-dev-train"}
    ]


def test_job_pod_template_is_a_valid_hardened_gpu_job() -> None:
    template = common.job_pod_template(namespace="ns", service_account="sa", priority_class="pc", gpu=True)
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "train-example", **template["metadata"]},
        "spec": {
            "template": {
                "spec": {
                    **template["spec"],
                    "containers": [
                        {
                            "name": "train",
                            "image": "ghcr.io/example/trainer:3.1.0",
                            "resources": common.resources("8", "32Gi", 1),
                            "securityContext": common.container_security(),
                            "volumeMounts": [common.tmp_mount()],
                            "livenessProbe": {"exec": {"command": ["true"]}},
                            "readinessProbe": {"exec": {"command": ["true"]}},
                        }
                    ],
                }
            }
        },
    }
    assert manifests.validate(job) == "builtin"
    pod = manifests.pod_spec(job)
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert_hardened("Job", pod, "main", pod["containers"][0])


def test_redis_password_is_generated_secret_and_never_plain() -> None:
    captured, _ = run_k8s(platform(STORE))
    password = by_name(captured, "features-redis-password")
    assert password.type == "random:index/randomPassword:RandomPassword"
    assert password.inputs["length"] == 32
    secret = by_name(captured, "features-redis-auth")
    assert secret.inputs["stringData"] == "[secret]"
    everything = json.dumps([r.inputs for r in captured.resources])
    assert "mock-random-" not in everything  # the generated value shows up in no input in clear
    sts = by_name(captured, "features-redis")
    redis = container(sts, "redis")
    env = {e["name"]: e for e in redis["env"]}
    assert env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "shop-dev-features-redis-auth",
        "key": "password",
    }
    assert "$REDIS_PASSWORD" not in " ".join(redis["command"][:2])


def test_redis_statefulset_persists_on_a_claim_and_is_reachable_only_from_the_platform() -> None:
    captured, _ = run_k8s(platform(STORE))
    spec = by_name(captured, "features-redis").inputs["spec"]
    claim = spec["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert spec["serviceName"] == "shop-dev-features-redis-headless"
    assert by_name(captured, "features-redis-headless").inputs["spec"]["clusterIP"] == "None"
    assert by_name(captured, "features-redis-service").inputs["spec"]["ports"][0]["port"] == 6379
    peers = by_name(captured, "features-redis-netpol").inputs["spec"]["ingress"][0]["from"]
    assert peers == [
        {"namespaceSelector": {"matchLabels": {"mlplatform.io/platform": "shop", "mlplatform.io/environment": "dev"}}}
    ]
    mounts = {m["mountPath"] for m in container(by_name(captured, "features-redis"), "redis")["volumeMounts"]}
    assert mounts == {"/data", "/config", "/tmp"}


def test_redis_volume_claim_names_the_declared_storage_class_with_immutable_labels() -> None:
    # Kubernetes PersistentVolumeClaim: without storageClassName the cluster's default class is used,
    # and EKS 1.30+ marks none as default, so the claim would stay Pending.
    captured, _ = run_k8s(platform(STORE, kubernetes=KubernetesCluster(storage_class="ebs-gp3")))
    claim = by_name(captured, "features-redis").inputs["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["storageClassName"] == "ebs-gp3"
    # StatefulSet spec.volumeClaimTemplates is immutable: its labels are the selector's, never team/version.
    assert claim["metadata"]["labels"] == {
        "app.kubernetes.io/name": "features",
        "app.kubernetes.io/instance": "shop-dev-features-redis",
    }
    default, _ = run_k8s(platform(STORE))
    claim = by_name(default, "features-redis").inputs["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["storageClassName"] == "gp2"  # EKS's StorageClass, the declared default
