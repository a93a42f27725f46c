"""ExperimentTracker on Kubernetes: the pinned MLflow chart on RDS PostgreSQL (the recommender
example) or an in-cluster PostgreSQL, auth on, artifacts on S3 through IRSA, under SDK mocks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pulumi
import pytest
import yaml

from mlplatform import naming
from mlplatform.components import aws, k8s, tracking
from mlplatform.components.k8s import experiment_tracker as chart
from mlplatform.context import ProgramContext
from mlplatform.plan.engine import Captured, capture
from mlplatform.spec.cluster import Irsa
from mlplatform.spec.experiment_tracker import ExperimentTracker
from mlplatform.spec.platform import KubernetesCluster, Platform
from mlplatform.spec.training_cluster import TrainingCluster
from tests.components.conftest import Resources, run_promoted

RDS = "aws:rds/instance:Instance"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"

# The pinned chart's values.yaml and values.schema.json, copied unchanged from the chart's source at
# its release tag (charts/mlflow-<version>/PROVENANCE.md): a version bump without new files fails here.
CHART_DIR = Path(__file__).parent / "charts" / f"mlflow-{chart.CHART_VERSION}"


@pytest.fixture(scope="module")
def recs() -> dict[str, Captured]:
    """The recommender's stacks with their sample promoted models (stacks/samples/)."""
    return {stack: run_promoted(stack) for stack in ("recs-dev", "recs-prod")}


@pytest.fixture(scope="module")
def prod(recs: dict[str, Captured]) -> Resources:
    return Resources(recs["recs-prod"])


def _release(r: Resources) -> Any:
    return r.named("tracking-release")


def _values(r: Resources) -> dict[str, Any]:
    values: dict[str, Any] = _release(r).inputs["values"]
    return values


def test_the_kubernetes_example_runs_the_pinned_mlflow_chart(prod: Resources) -> None:
    release = _release(prod).inputs
    assert (release["chart"], release["version"]) == ("mlflow", "1.11.5")
    assert release["repositoryOpts"] == {"repo": "https://community-charts.github.io/helm-charts"}
    assert (release["name"], release["namespace"]) == ("recs-prod-tracking", "recs-prod")
    values = _values(prod)
    assert values["image"] == {"repository": "burakince/mlflow", "tag": "3.15.1", "pullPolicy": "IfNotPresent"}
    assert values["replicaCount"] == 2


def test_auth_is_on_with_a_generated_admin_password_in_a_secret(prod: Resources) -> None:
    auth = _values(prod)["auth"]
    assert auth["enabled"] is True and auth["defaultPermission"] == "READ"
    assert auth["existingAdminSecret"] == {
        "name": "recs-prod-tracking-admin",
        "usernameKey": "username",
        "passwordKey": "password",
    }
    secret = prod.named("tracking-admin").inputs
    assert secret["metadata"]["name"] == "recs-prod-tracking-admin"
    assert secret["stringData"] == "[secret]"  # the password is a Pulumi secret, never shown
    password = prod.named("tracking-admin-password").inputs
    assert (password["length"], password["special"]) == (32, False)
    # The users and permissions live in PostgreSQL too (a pod's SQLite file would not survive a restart).
    assert auth["postgres"]["enabled"] is True and auth["postgres"]["existingSecret"]["passwordKey"] == "password-url"


def test_the_backend_store_is_rds_postgresql_encrypted_private_with_a_managed_password(prod: Resources) -> None:
    db = prod.one(RDS).inputs
    # RDS User Guide, "Password management with Amazon RDS and AWS Secrets Manager".
    assert db["manageMasterUserPassword"] is True and "password" not in db
    assert db["storageEncrypted"] is True and db["kmsKeyId"] == db["masterUserSecretKmsKeyId"]
    assert db["kmsKeyId"].startswith("arn:aws:kms:eu-west-1:123456789012:key/")
    assert db["publiclyAccessible"] is False and db["engine"] == "postgres"
    assert (db["multiAz"], db["deletionProtection"], db["backupRetentionPeriod"]) == (True, True, 30)
    subnets = prod.named("tracking-db-subnets").inputs["subnetIds"]
    assert subnets == ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]  # the declared private subnets
    ingress = prod.named("tracking-db-sg").inputs["ingress"]
    assert [(i["fromPort"], i["toPort"], i["cidrBlocks"]) for i in ingress] == [(5432, 5432, ["10.255.0.0/16"])]
    backend = _values(prod)["backendStore"]
    assert backend["postgres"] == {
        "enabled": True,
        "host": "recs-prod-tracking-db.mock.invalid",
        "port": 5432,
        "database": "mlflow",
    }
    assert backend["existingDatabaseSecret"]["name"] == "recs-prod-tracking-db"
    assert backend["databaseMigration"] is True


def test_database_credentials_are_synced_from_the_rds_secret_as_the_server(prod: Resources) -> None:
    external = prod.named("tracking-db-credentials-external").inputs["spec"]
    secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-mock-recs-prod-tracking-db"
    assert external["data"] == [
        {"secretKey": "password", "remoteRef": {"key": secret_arn, "property": "password"}},
        {"secretKey": "username", "remoteRef": {"key": secret_arn, "property": "username"}},
    ]
    assert external["target"]["name"] == "recs-prod-tracking-db"
    assert external["target"]["template"]["data"]["password-url"] == "{{ .password | urlquery }}"
    store = prod.named("tracking-db-credentials-store").inputs["spec"]["provider"]["aws"]
    assert store["auth"] == {"jwt": {"serviceAccountRef": {"name": "recs-prod-tracking"}}}
    # The server's role alone reads that one secret.
    doc = prod.policy(prod.named("tracking-server-policy"))
    read = next(s for s in doc["Statement"] if s.get("Sid") == "DatabaseSecret")
    assert read["Resource"] == secret_arn and read["Action"] == [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
    ]


def test_artifacts_are_on_s3_through_irsa_with_no_static_keys(prod: Resources) -> None:
    values = _values(prod)
    assert values["artifactRoot"]["s3"] == {
        "enabled": True,
        "bucket": "recs-prod-tracking-artifacts-123456789012",
        "path": "mlflow",
    }
    assert values["artifactRoot"]["proxiedArtifactStorage"] is True
    assert "awsAccessKeyId" not in json.dumps(values) and "AWS_SECRET_ACCESS_KEY" not in json.dumps(values)
    assert values["serviceAccount"] == {"create": False, "automount": False, "name": "recs-prod-tracking"}
    sa = prod.named("tracking-sa").inputs["metadata"]
    assert sa["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/recs-prod-tracking-mlflow"
    }
    trust = prod.policy(prod.named("tracking-server-role"), "assumeRolePolicy")["Statement"][0]
    # EKS User Guide, IRSA: the role trusts the cluster's OIDC provider for one service account and audience.
    assert trust["Principal"] == {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"}
    assert trust["Condition"]["StringEquals"] == {
        f"{ISSUER}:sub": "system:serviceaccount:recs-prod:recs-prod-tracking",
        f"{ISSUER}:aud": "sts.amazonaws.com",
    }
    objects = next(
        s for s in prod.policy(prod.named("tracking-server-policy"))["Statement"] if s.get("Sid") == "ArtifactObjects"
    )
    assert objects["Resource"] == "arn:aws:s3:::recs-prod-tracking-artifacts-123456789012/mlflow/*"
    sse = prod.named("tracking-artifacts-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse["sseAlgorithm"] == "aws:kms"


def test_service_monitor_and_network_policy(prod: Resources) -> None:
    monitor = _values(prod)["serviceMonitor"]
    # kube-prometheus-stack selects ServiceMonitors by its release label (the declared selector labels).
    assert monitor["labels"] == {"release": "kube-prometheus-stack"}
    # The chart's ServiceMonitor targets port `http`: the Service's port name, not the container's.
    assert (monitor["enabled"], monitor["useServicePort"], monitor["namespace"]) == (True, True, "recs-prod")
    # --expose-prometheus writes to /mlflow/metrics, on a read-only root filesystem: an emptyDir there.
    assert _values(prod)["extraVolumeMounts"] == [{"name": "metrics", "mountPath": "/mlflow/metrics"}]
    assert _values(prod)["securityContext"]["readOnlyRootFilesystem"] is True
    policy = prod.named("tracking-netpol").inputs["spec"]
    assert policy["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": "recs-prod-tracking"}
    }
    sources = policy["ingress"][0]["from"]
    assert sources == [
        {"namespaceSelector": {"matchLabels": {"mlplatform.io/platform": "recs", "mlplatform.io/environment": "prod"}}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
    ]
    assert policy["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 5000}]


def test_mlflow_accepts_the_service_names_the_jobs_use(prod: Resources) -> None:
    # MLflow's host-header check (security_utils.is_allowed_host_header) replaces its defaults when set.
    hosts = _values(prod)["serverAllowedHosts"]
    assert "recs-prod-tracking.recs-prod.svc.cluster.local" in hosts and "10.*" in hosts


def test_training_jobs_get_the_uri_and_the_login_by_reference(recs: dict[str, Captured], prod: Resources) -> None:
    env = recs["recs-prod"].outputs["train_tracking_env"]
    assert env == [
        {"name": "MLFLOW_TRACKING_URI", "value": "http://recs-prod-tracking.recs-prod.svc.cluster.local"},
        {
            "name": "MLFLOW_TRACKING_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "tracking-mlflow-auth", "key": "password"}},
        },
        {
            "name": "MLFLOW_TRACKING_USERNAME",
            "valueFrom": {"secretKeyRef": {"name": "tracking-mlflow-auth", "key": "username"}},
        },
    ]
    login = prod.named("tracking-auth-train").inputs["metadata"]
    assert (login["name"], login["namespace"]) == ("tracking-mlflow-auth", "recs-prod-train")
    # The Trainer's runtimes carry the same variables: every TrainJob on them gets them.
    runtimes = prod.of_type("kubernetes:trainer.kubeflow.org/v1alpha1:TrainingRuntime")
    assert len(runtimes) == 2
    for runtime in runtimes:
        job = runtime.inputs["spec"]["template"]["spec"]["replicatedJobs"][0]
        assert job["template"]["spec"]["template"]["spec"]["containers"][0]["env"][1:] == env


def _leaves(values: Any, defaults: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Key paths of `values` that the chart's values.yaml does not define, inside the maps the
    chart's schema closes (in open ones, such as securityContext or extraEnvVars, every key is
    passed on to Kubernetes or the environment, and the manifest checks apply)."""
    missing: list[str] = []
    if not isinstance(values, dict) or schema.get("additionalProperties") is not False:
        return missing
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        if not isinstance(defaults, dict) or key not in defaults:
            missing.append(where)
        else:
            missing.extend(_leaves(value, defaults[key], schema.get("properties", {}).get(key, {}), where))
    return missing


def _chart_file(name: str) -> Path:
    path = CHART_DIR / name
    assert path.is_file(), f"the pinned chart's {name} is not at {path} (copy it from the chart's release tag)"
    return path


def _merged(defaults: Any, values: Any) -> Any:
    """What Helm validates: the chart's defaults with the given values coalesced over them (maps
    merge, anything else is replaced)."""
    if isinstance(defaults, dict) and isinstance(values, dict):
        return {k: _merged(defaults.get(k), values[k]) if k in values else v for k, v in defaults.items()} | {
            k: v for k, v in values.items() if k not in defaults
        }
    return values


def _plain(value: Any) -> Any:
    """Values as the chart receives them: mocks carry numbers as floats."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize("stack", ["recs-dev", "recs-prod"])
def test_chart_values_are_valid_for_the_pinned_chart(recs: dict[str, Captured], stack: str) -> None:
    """Helm validates values against the chart's values.schema.json at install; unknown keys fail
    there (additionalProperties: false), and keys a chart ignores would silently do nothing."""
    values = _plain(_values(Resources(recs[stack])))
    _assert_valid_for_the_chart(values)
    schema, defaults = _chart()
    typo = {**values, "auth": {**values["auth"], "adminPasswrd": "x"}}
    with pytest.raises(jsonschema.ValidationError, match="adminPasswrd"):
        jsonschema.Draft7Validator(schema).validate(_merged(defaults, typo))
    assert _leaves(typo, defaults, schema) == ["auth.adminPasswrd"]


def test_the_chart_fixture_is_the_pinned_chart() -> None:
    """The fixture's defaults name the image the platform pins (the chart's default image)."""
    _, defaults = _chart()
    assert defaults["image"]["repository"] == chart.IMAGE
    assert (CHART_DIR / "PROVENANCE.md").read_text(encoding="utf-8").count(f"mlflow-{chart.CHART_VERSION}") >= 1


def _chart() -> tuple[dict[str, Any], dict[str, Any]]:
    schema: dict[str, Any] = json.loads(_chart_file("values.schema.json").read_text(encoding="utf-8"))
    defaults: dict[str, Any] = yaml.safe_load(_chart_file("values.yaml").read_text(encoding="utf-8"))
    return schema, defaults


def _assert_valid_for_the_chart(values: dict[str, Any]) -> None:
    schema, defaults = _chart()
    jsonschema.Draft7Validator(schema).validate(_merged(defaults, values))
    assert _leaves(values, defaults, schema) == []


def _run(platform: Platform, env: str = "dev") -> Resources:
    def program() -> None:
        ctx = ProgramContext(
            platform=platform,
            env=env,
            project_root=Path("."),
            blueprint="blueprints/shop.py",
            models={},
            config=pulumi.Config("mlplatform"),
            names=naming.Names(platform.name, env),
        )
        aws.build(ctx)
        k8s.build(ctx)
        tracking.build(ctx)

    return Resources(capture(program, stack=env, config={"mlplatform:kubeContext": "shop-dev"}))


def test_in_cluster_postgres_is_explicit_reported_and_has_a_generated_password() -> None:
    platform = Platform(
        name="shop",
        team="search",
        kubernetes=KubernetesCluster(workload_identity=Irsa(oidc_issuer=ISSUER)),
        components=[
            TrainingCluster(name="train", target="kubernetes"),
            ExperimentTracker(name="tracking", target="kubernetes", database="in_cluster"),
        ],
    )
    r = _run(platform)
    assert not r.of_type(RDS)
    assert any("in-cluster PostgreSQL pod" in w for w in r.captured.warnings)
    pg = r.named("tracking-db").inputs
    container = pg["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "docker.io/library/postgres:17.6-alpine"
    env = {e["name"]: e for e in container["env"]}
    assert env["POSTGRES_PASSWORD"]["valueFrom"] == {
        "secretKeyRef": {"name": "shop-dev-tracking-db", "key": "password"}
    }
    assert r.named("tracking-db-secret").inputs["stringData"] == "[secret]"
    assert pg["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "gp2"
    assert container["securityContext"]["runAsNonRoot"] is True
    values = _values(r)
    assert values["backendStore"]["postgres"]["host"] == "shop-dev-tracking-postgres.shop-dev.svc.cluster.local"
    _assert_valid_for_the_chart(_plain(values))
    only = r.named("tracking-db-netpol").inputs["spec"]["ingress"][0]["from"]
    assert only == [
        {
            "podSelector": {
                "matchLabels": {"app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": "shop-dev-tracking"}
            }
        }
    ]
    # Every object it makes is a valid manifest (kubernetes-validate, strict, as in tests/components/k8s).
    from tests.components.k8s import manifests

    rendered = [manifests.render(x) for x in r.all if manifests.is_kubernetes_object(x)]
    kinds = sorted({m["kind"] for m in rendered})
    assert {"StatefulSet", "Service", "Secret", "NetworkPolicy", "ServiceAccount"} <= set(kinds)
    for manifest in rendered:
        assert manifests.validate(manifest) in ("builtin", "crd"), manifest["kind"]
