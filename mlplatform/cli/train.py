"""`mlplatform train render`: a TrainJob on one of a TrainingCluster's runtimes, for `kubectl apply -f -`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlplatform.cli.output import fail, out, user_errors

train_app = typer.Typer(help="Training jobs on a TrainingCluster (Kubeflow Trainer, queued by Kueue).")


@train_app.command("render")
@user_errors()
def render(
    blueprint: Annotated[Path, typer.Argument(help="Blueprint file.")],
    command: Annotated[list[str], typer.Argument(help="The command each node runs, after --.")],
    env: Annotated[str, typer.Option("--env", help="Environment.")],
    image: Annotated[str, typer.Option("--image", help="Training image, pinned by tag or digest.")],
    cluster: Annotated[str | None, typer.Option("--cluster", help="TrainingCluster name (if several).")] = None,
    runtime: Annotated[str, typer.Option("--runtime", help="torch-distributed or torch-single-node.")] = (
        "torch-distributed"
    ),
    nodes: Annotated[int, typer.Option("--nodes", min=1, help="Training nodes (pods).")] = 2,
    gpus_per_node: Annotated[int | None, typer.Option("--gpus-per-node", min=0, help="GPUs per node.")] = None,
    cpu: Annotated[str | None, typer.Option("--cpu", help="CPU per node, e.g. 4.")] = None,
    memory: Annotated[str | None, typer.Option("--memory", help="Memory per node, e.g. 16Gi.")] = None,
    name: Annotated[str, typer.Option("--name", help="TrainJob name.")] = "train",
    priority: Annotated[str, typer.Option("--priority", help="high, normal or low.")] = "normal",
) -> None:
    """Print a TrainJob (YAML) queued in the cluster's LocalQueue; apply it with `kubectl apply -f -`."""
    import yaml

    from mlplatform import naming
    from mlplatform.blueprint import load
    from mlplatform.components.k8s import common, training_queues, training_runtimes
    from mlplatform.spec.training_cluster import TrainingCluster

    platform = load(blueprint).resolve(env)
    clusters = platform.of_kind(TrainingCluster)
    chosen = [c for c in clusters if cluster in (None, c.name)]
    if len(chosen) != 1:
        known = ", ".join(c.name for c in clusters) or "none"
        fail(f"{blueprint}: name one TrainingCluster with --cluster (TrainingClusters: {known})")
    spec = chosen[0]
    if runtime not in training_runtimes.RUNTIMES:
        fail(f"--runtime '{runtime}' is not a runtime of the platform ({', '.join(training_runtimes.RUNTIMES)})")
    if runtime == training_runtimes.SINGLE_NODE and nodes != 1:
        fail(f"--runtime {runtime} runs on one node; got --nodes {nodes}")
    if priority not in training_queues.WORKLOAD_PRIORITIES:
        fail(f"--priority '{priority}' is not one of {', '.join(training_queues.WORKLOAD_PRIORITIES)}")
    problem = common.image_problem(image)
    if problem:
        fail(f"--image {problem}; pin it with a version tag (repo:1.4.2) or a digest (repo@sha256:...)")
    if not command:
        fail("give the command each node runs after --, e.g. -- torchrun train.py")
    defaults = training_runtimes.GPU_DEFAULTS if spec.quota.gpus > 0 else training_runtimes.CPU_DEFAULTS
    gpus = defaults.gpus if gpus_per_node is None else gpus_per_node
    if gpus * nodes > spec.quota.gpus:
        fail(
            f"{nodes} nodes x {gpus} GPUs exceeds TrainingCluster '{spec.name}' quota of {spec.quota.gpus} GPUs "
            f"in {env}; the job would never be admitted"
        )
    namespace = naming.Names(platform.name, env).namespace(spec.name)
    job = training_runtimes.train_job(
        name=name,
        namespace=namespace,
        runtime=runtime,
        image=image,
        command=command,
        nodes=nodes,
        resources=training_runtimes.NodeResources(cpu or defaults.cpu, memory or defaults.memory, gpus),
        priority=f"{namespace}-{priority}",
    )
    out.print(yaml.safe_dump(job, sort_keys=False), markup=False, end="")
