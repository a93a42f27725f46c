"""`mlplatform train render`: a TrainJob on one of a TrainingCluster's runtimes, for `kubectl apply -f -`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from mlplatform.cli.output import out, print_json, user_errors
from mlplatform.errors import MlplatformError

CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
MEMORY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
MEMORY_UNITS = {None: 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def cores(value: str) -> float | None:
    """A Kubernetes CPU quantity (4, 1.5, 500m) in cores; None if it is not one."""
    found = CPU.match(value)
    return None if found is None else float(found[1]) / (1000 if found[2] else 1)


def gib(value: str) -> float | None:
    """A Kubernetes memory quantity (16Gi, 512Mi, 8G) in GiB; None if it is not one."""
    found = MEMORY.match(value)
    return None if found is None else float(found[1]) * MEMORY_UNITS[found[2]] / 2**30


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
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the TrainJob as JSON (kubectl apply -f - takes either).")
    ] = False,
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
        raise MlplatformError(f"{blueprint}: name one TrainingCluster with --cluster (TrainingClusters: {known})")
    spec = chosen[0]
    if runtime not in training_runtimes.RUNTIMES:
        raise MlplatformError(
            f"--runtime '{runtime}' is not a runtime of the platform ({', '.join(training_runtimes.RUNTIMES)})"
        )
    if runtime == training_runtimes.SINGLE_NODE and nodes != 1:
        raise MlplatformError(f"--runtime {runtime} runs on one node; got --nodes {nodes}")
    if priority not in training_queues.WORKLOAD_PRIORITIES:
        raise MlplatformError(f"--priority '{priority}' is not one of {', '.join(training_queues.WORKLOAD_PRIORITIES)}")
    problem = common.image_problem(image)
    if problem:
        raise MlplatformError(
            f"--image {problem}; pin it with a version tag (repo:1.4.2) or a digest (repo@sha256:...)"
        )
    if not command:
        raise MlplatformError("give the command each node runs after --, e.g. -- torchrun train.py")
    defaults = training_runtimes.GPU_DEFAULTS if spec.quota.gpus > 0 else training_runtimes.CPU_DEFAULTS
    gpus = defaults.gpus if gpus_per_node is None else gpus_per_node
    if gpus * nodes > spec.quota.gpus:
        raise MlplatformError(
            f"{nodes} nodes x {gpus} GPUs exceeds TrainingCluster '{spec.name}' quota of {spec.quota.gpus} GPUs "
            f"in {env}; the job would never be admitted"
        )
    node_cpu, node_memory = cpu or defaults.cpu, memory or defaults.memory
    wanted = {
        "cpu": (cores(node_cpu), node_cpu, spec.quota.cpu, ""),
        "memory": (gib(node_memory), node_memory, spec.quota.memory_gb, "Gi"),
    }
    for what, (amount, given, total, unit) in wanted.items():
        if amount is None or amount <= 0:
            example = "4 or 500m" if what == "cpu" else "16Gi or 512Mi"
            raise MlplatformError(f"--{what} '{given}' is not a Kubernetes {what} quantity (e.g. {example})")
        # The namespace's LimitRange refuses a container above the quota; Kueue never admits a
        # job whose nodes together ask for more than the ClusterQueue's nominal quota.
        if amount * nodes > total:
            raise MlplatformError(
                f"{nodes} nodes x {given} {what} exceeds TrainingCluster '{spec.name}' quota of {total}{unit} {what} "
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
        resources=training_runtimes.NodeResources(node_cpu, node_memory, gpus),
        priority=f"{namespace}-{priority}",
    )
    if as_json:
        print_json(job)
        return
    out.print(yaml.safe_dump(job, sort_keys=False), markup=False, end="")
