"""Fraud detection on AWS: SageMaker serving, EKS GPU training, DynamoDB online features.

Copy this file to start a platform. `mlplatform validate blueprints/fraud_detection.py --all-envs`
checks it; `mlplatform plan blueprints/fraud_detection.py --env prod` shows what `pulumi up`
would create.
"""

from mlplatform import (
    AllAtOnce,
    ApiAccess,
    Canary,
    EvaluateStep,
    ExperimentTracker,
    Feature,
    FeatureGroup,
    FeatureStore,
    FeatureView,
    KubernetesCluster,
    MetricGates,
    ModelEndpoint,
    MonitoringStack,
    Network,
    NodePool,
    Platform,
    Quota,
    RegisterStep,
    SecretRef,
    TrainingCluster,
    TrainingPipeline,
    TrainStep,
    Triggers,
    Waiver,
    per_env,
)

platform = Platform(
    name="fraud",
    team="risk-ml",
    region="us-east-1",
    environments=["dev", "staging", "prod"],
    network=Network(single_nat_gateway=per_env(dev=True, default=False)),
    # The External Secrets Operator runs on the training cluster (installed once the cluster exists, before
    # the W&B key is synced: README, experiment tracking).
    kubernetes=KubernetesCluster(external_secrets=True),
    waivers=[
        Waiver(
            rule="MLP-EKS-001",
            reason="public endpoint admits the deploy runner's CIDRs only (api_access.public_cidrs, MLP-EKS-004)",
            component="train",
        )
    ],
    components=[
        FeatureStore(
            name="features",
            online_store="dynamodb",
            offline_retention_days=per_env(dev=30, default=365),
            online_ttl_days=90,
            # The feature views of the team's Feast repo: each online one gets its DynamoDB table.
            feature_views=[FeatureView(name="card_activity"), FeatureView(name="merchant_risk")],
            feature_groups=[
                FeatureGroup(
                    name="transactions",
                    record_identifier="transaction_id",
                    features=[
                        Feature(name="transaction_id", type="String"),
                        Feature(name="event_time", type="Fractional"),
                        Feature(name="amount", type="Fractional"),
                        Feature(name="merchant_risk", type="Fractional"),
                    ],
                )
            ],
        ),
        TrainingCluster(
            name="train",
            target="eks",
            node_pools=[
                NodePool(name="cpu", instance_type="m6i.2xlarge", min_nodes=1, max_nodes=per_env(dev=2, default=6)),
                NodePool(
                    name="gpu",
                    instance_type="g5.2xlarge",
                    gpu=True,
                    min_nodes=0,
                    max_nodes=per_env(dev=2, prod=16, default=4),
                    spot=per_env(dev=True, default=False),
                ),
            ],
            quota=Quota(gpus=per_env(dev=2, prod=16, default=4), cpu=128, memory_gb=512),
            # `pulumi up` creates Kubernetes objects on the new cluster, from outside the VPC it creates:
            # the endpoint is public for the deploy runner's addresses only (docs/eks-api-access.md).
            # Replace 203.0.113.0/24 (a documentation range EKS refuses) with your runner's egress addresses.
            api_access=ApiAccess(public_cidrs=["203.0.113.0/24"]),
            opt_out=["private_endpoint"],
        ),
        ModelEndpoint(
            name="scorer",
            model="fraud-xgb",
            target="sagemaker",
            instance_type="ml.m5.xlarge",
            min_instances=per_env(dev=1, default=2),
            max_instances=per_env(dev=1, default=8),
            data_capture_percent=per_env(dev=0, default=20),
            # A canary step is at most half the instances (SageMaker); dev runs one instance.
            deployment=per_env(dev=AllAtOnce(bake_minutes=5), default=Canary(percent=10, bake_minutes=10)),
            gates=per_env(
                dev=MetricGates(),
                default=MetricGates(minimum={"auc": 0.90}, maximum={"logloss": 0.35}),
            ),
        ),
        # SageMaker managed MLflow; training jobs get MLFLOW_TRACKING_URI and the IAM to use it.
        ExperimentTracker(
            name="tracking",
            backend="mlflow",
            target="aws",
            size=per_env(dev="Small", default="Medium"),
            maintenance_window=per_env(prod="SUN:03:00", default="TUE:03:30"),
            automatic_model_registration=per_env(dev=False, default=True),
        ),
        # Weights & Biases, the API key read from Secrets Manager by the training jobs only.
        ExperimentTracker(
            name="wandb",
            backend="wandb",
            entity="risk-ml",
            project="fraud",
            api_key=SecretRef(aws_secret="fraud/wandb-api-key"),
        ),
        MonitoringStack(
            name="monitoring",
            endpoints=["scorer"],
            notify=["oncall@example.com"],
            latency_p99_ms=200,
            error_rate_percent=1.0,
            # Data-quality drift of prod's traffic against the promoted version's baseline.
            model_monitor=per_env(dev=False, default=True),
        ),
        # Retraining: weekly, and whenever Model Monitor finds drift in the traffic (staging and
        # prod). Each run registers a version in dev's registry; `promote` and its gates take it on.
        TrainingPipeline(
            name="retrain",
            model="fraud-xgb",
            schedule=per_env(dev=None, default="cron(0 3 ? * MON *)"),
            triggers=Triggers(drift=per_env(dev=False, default=True)),
            # Images pinned by digest: XGBoost trains (and serves); the team's images evaluate
            # (writes metrics.json) and register (mlplatform installed: `mlplatform register`'s code).
            train=TrainStep(
                image="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost"
                "@sha256:1edc1a76b07777975072b4830ba69b2f79d3d18bcf80dd82cafa4754b296c046",
                instance_type="ml.m5.2xlarge",
                feature_store="features",
                data_prefix="data/transactions/",
                hyperparameters={"objective": "binary:logistic", "num_round": "200"},
            ),
            evaluate=EvaluateStep(
                image="111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud-evaluate"
                "@sha256:7d5e0a2c4b1f3e6d8a9c0b2e4f6a8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a1b",
                command=["python3", "/opt/program/evaluate.py"],
            ),
            register=RegisterStep(
                image="111122223333.dkr.ecr.us-east-1.amazonaws.com/mlplatform"
                "@sha256:3b9f1c7e5a2d4b6c8e0f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b"
            ),
        ),
    ],
)
