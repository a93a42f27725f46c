"""The program across AWS and Kubernetes: unpromoted endpoints warned once, opt-outs exported."""

from __future__ import annotations

import json
from pathlib import Path

from mlplatform import stack_config
from mlplatform.plan.engine import run_program
from tests.components.conftest import ROOT, STACKS, promoted_file


def _run_without(stack: str, model: str) -> tuple[list[str], list[str]]:
    """The stack with its sample promoted models (stacks/samples/) but `model`."""
    config = stack_config.read(promoted_file(stack), stack)
    models = dict(config.values["mlplatform:models"])
    del models[model]
    config.values["mlplatform:models"] = models
    merged = {k: v if isinstance(v, str) else json.dumps(v) for k, v in stack_config.project_defaults(ROOT).items()}
    merged.update(config.as_pulumi_config())
    captured = run_program(STACKS / "__main__.py", project="mlplatform", stack=stack, config=merged, region="eu-west-1")
    return captured.warnings, [r.name for r in captured.resources]


def test_kubernetes_endpoint_without_a_version_is_skipped_with_one_warning() -> None:
    warnings, names = _run_without("recs-prod", "recs-ranker")
    about = [w for w in warnings if "'ranker'" in w]
    assert about == [
        "ModelEndpoint 'ranker' skipped: model 'recs-ranker' has no promoted version in the stack config "
        "(mlplatform:models); promote one with `mlplatform promote recs-ranker`",
        "MonitoringStack 'monitoring': endpoint 'ranker' was not built; not watched",
    ]
    assert "ranker" not in names and "embedder" in names


def test_kubernetes_feature_store_opt_outs_are_exported(tmp_path: Path) -> None:
    source = (ROOT / "blueprints" / "recommender_k8s.py").read_text()
    marker = 'online_store="redis",'
    assert marker in source
    blueprint = tmp_path / "recs.py"
    blueprint.write_text(source.replace(marker, marker + ' opt_out=["versioning"],', 1))
    config = stack_config.read(STACKS / "Pulumi.recs-dev.yaml")
    config.values["mlplatform:blueprint"] = str(blueprint)
    captured = run_program(
        STACKS / "__main__.py",
        project="mlplatform",
        stack="recs-dev",
        config=config.as_pulumi_config(),
        region="eu-west-1",
    )
    assert captured.outputs["opt_outs"] == ["features:versioning"]
    assert "FeatureStore 'features': secure default 'versioning' is turned off (opt_out)" in captured.warnings
    offline = [r for r in captured.resources if r.type == "aws:s3/bucketVersioning:BucketVersioning"]
    assert all("features" not in r.name for r in offline)
