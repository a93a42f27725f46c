"""The steps of a TrainingPipeline that run mlplatform's own code, in the pipeline's containers:
`python3 -m mlplatform.promotion.pipeline_steps guard|register ...`.

- `guard`: one run at a time. When an earlier execution of the same pipeline is still Executing,
  the guard stops its own execution (StopPipelineExecution): the run ends Stopped, starts no
  training, and raises no failure alert. Two executions started together are ordered by start
  time, then ARN, so exactly the later one stops.
- `register`: `mlplatform register` in the registration environment, with the same code
  (`registry.register_in`): the trained artifact adopted with a server-side copy, SHA-256 of the
  whole and each part, the evaluation's metrics, the manifest, the model package and the
  ledger entry, written as the environment's promoter role under a session named
  pipeline-<name>. The lineage records the pipeline, the execution, the environment it ran in
  and the trigger that started it, which `mlplatform history` shows.

The container gets the environment facts in variables the pipeline definition sets
(MLPLATFORM_PLATFORM, MLPLATFORM_ENVIRONMENT, MLPLATFORM_RAN_IN, MLPLATFORM_PIPELINE,
MLPLATFORM_PROMOTER_ROLE_ARN, AWS_REGION): it has no project folder and no blueprint.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlplatform import naming, stack_config
from mlplatform.promotion import facts, registry
from mlplatform.promotion.aws import aws_errors, new_session
from mlplatform.promotion.errors import PromotionError
from mlplatform.promotion.project import Environment, Project

RUNNING = "Executing"
# In-cluster access to the Kubernetes API: the service account's token and CA, as mounted in
# every pod that automounts them (Kubernetes docs, "Accessing the Kubernetes API from a Pod").
KUBERNETES_API = "https://kubernetes.default.svc"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
PIPELINE_LABEL = "mlplatform.io/pipeline"
FINISHED = ("Complete", "Failed")


def earlier_running(summaries: Sequence[dict[str, Any]], mine: str) -> str | None:
    """The ARN of an execution that started before `mine` and is still Executing, or None."""
    by_arn = {str(s["PipelineExecutionArn"]): s for s in summaries}
    own = by_arn.get(mine)
    if own is None:
        raise PromotionError(f"execution {mine} is not among its pipeline's executions")
    key = (own["StartTime"], mine)
    earlier = sorted(
        (s["StartTime"], arn)
        for arn, s in by_arn.items()
        if arn != mine and s.get("PipelineExecutionStatus") == RUNNING and (s["StartTime"], arn) < key
    )
    return earlier[0][1] if earlier else None


def pipeline_name(execution_arn: str) -> str:
    """arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID -> NAME."""
    head, sep, _ = execution_arn.partition("/execution/")
    if not sep or "/" not in head:
        raise PromotionError(f"'{execution_arn}' is not a pipeline execution ARN")
    return head.rsplit("/", 1)[1]


def guard(sagemaker: Any, execution_arn: str) -> str | None:
    """Stop `execution_arn` when an earlier execution runs; returns that execution, or None."""
    summaries: list[dict[str, Any]] = []
    with aws_errors(f"listing the executions of {pipeline_name(execution_arn)}"):
        for page in sagemaker.get_paginator("list_pipeline_executions").paginate(
            PipelineName=pipeline_name(execution_arn)
        ):
            summaries.extend(page.get("PipelineExecutionSummaries", []))
    other = earlier_running(summaries, execution_arn)
    if other is not None:
        with aws_errors(f"stopping {execution_arn}"):
            sagemaker.stop_pipeline_execution(PipelineExecutionArn=execution_arn, ClientRequestToken=str(uuid.uuid4()))
    return other


def is_pipeline_lineage(lineage: dict[str, Any] | None) -> bool:
    return bool(lineage) and "pipeline" in lineage  # type: ignore[operator]


def describe_lineage(lineage: dict[str, Any]) -> str:
    """One line for `history` and `status`: the pipeline run that registered the version."""
    execution = str(lineage.get("execution") or "").rsplit("/", 1)[-1] or "?"
    return (
        f"pipeline {lineage['pipeline']} in {lineage.get('ran_in', '?')}, started by {lineage.get('trigger', '?')} "
        f"(execution {execution})"
    )


def _finished(job: dict[str, Any]) -> bool:
    conditions = (job.get("status") or {}).get("conditions") or []
    return any(c.get("type") in FINISHED and c.get("status") == "True" for c in conditions)


def start_trainjob(
    manifest: dict[str, Any], api: str = KUBERNETES_API, account: Path = Path(SERVICE_ACCOUNT_DIR)
) -> str | None:
    """Create the TrainJob unless one this pipeline started is still running; returns the name
    of the TrainJob created, or None when one still runs."""
    import ssl
    import urllib.parse
    import urllib.request

    token = (account / "token").read_text().strip()
    context = ssl.create_default_context(cafile=str(account / "ca.crt")) if api.startswith("https") else None
    namespace = manifest["metadata"]["namespace"]
    url = f"{api}/apis/{manifest['apiVersion']}/namespaces/{namespace}/trainjobs"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"}

    def call(method: str, target: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(target, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30, context=context) as response:
                return dict(json.loads(response.read()))
        except OSError as exc:  # urllib's HTTPError and URLError are OSErrors
            raise PromotionError(f"{method} {target}: {exc}") from None

    label = manifest["metadata"].get("labels", {}).get(PIPELINE_LABEL)
    selector = urllib.parse.urlencode({"labelSelector": f"{PIPELINE_LABEL}={label}"})
    running = [j for j in call("GET", f"{url}?{selector}").get("items", []) if not _finished(j)]
    if running:
        return None
    return str(call("POST", url, manifest)["metadata"]["name"])


def environment_from(variables: dict[str, str]) -> Environment:
    """The registration environment as the pipeline definition describes it."""
    try:
        platform, env = variables["MLPLATFORM_PLATFORM"], variables["MLPLATFORM_ENVIRONMENT"]
        region, role = variables["AWS_REGION"], variables["MLPLATFORM_PROMOTER_ROLE_ARN"]
        pipeline = variables["MLPLATFORM_PIPELINE"]
    except KeyError as exc:
        raise PromotionError(
            f"the pipeline sets no {exc.args[0]}: was the step started outside its pipeline?"
        ) from None
    found = facts.BlueprintFacts("", platform, region, (env,))
    stack = stack_config.StackConfig(env, None, {"aws:region": region})
    return Environment(
        env,
        stack,
        "",
        found,
        Project(Path.cwd()),
        role_arn=role,
        session_name=f"{naming.PIPELINE_SESSION_PREFIX}{pipeline}"[:64],
    )


def register(args: argparse.Namespace, variables: dict[str, str]) -> registry.Registered:
    env = environment_from(variables)
    lineage = {
        "source": args.artifact,
        "pipeline": variables["MLPLATFORM_PIPELINE"],
        "execution": args.execution,
        "trigger": args.trigger,
        "ran_in": variables.get("MLPLATFORM_RAN_IN", env.name),
    }
    metrics = registry.load_metrics(Path(args.metrics))
    submission = registry.Submission(args.artifact, metrics, args.image, lineage=lineage)
    return registry.register_in(env, args.model, submission)


def main(argv: Sequence[str] | None = None, variables: dict[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m mlplatform.promotion.pipeline_steps")
    steps = parser.add_subparsers(dest="step", required=True)
    g = steps.add_parser("guard", help="stop this execution if an earlier one still runs")
    g.add_argument("--execution", required=True)
    r = steps.add_parser("register", help="register the trained model, as `mlplatform register` does")
    for option in ("--model", "--artifact", "--metrics", "--image", "--trigger", "--execution"):
        r.add_argument(option, required=True)
    k = steps.add_parser("start-trainjob", help="create the TrainJob unless the last one still runs")
    k.add_argument("--manifest", required=True)
    args = parser.parse_args(argv)
    variables = dict(os.environ if variables is None else variables)
    try:
        if args.step == "start-trainjob":
            created = start_trainjob(json.loads(Path(args.manifest).read_text(encoding="utf-8")))
            print(json.dumps({"created": created, "skipped": created is None}))
            return 0
        if args.step == "guard":
            region = variables.get("AWS_REGION") or args.execution.split(":")[3]
            other = guard(new_session(region=region).client("sagemaker"), args.execution)
            print(json.dumps({"proceed": other is None, "earlier_execution": other}))
            return 0
        done = register(args, variables)
        print(json.dumps(done.to_json(), sort_keys=True))
        return 0
    except PromotionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
