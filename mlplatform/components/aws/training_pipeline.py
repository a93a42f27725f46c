"""TrainingPipeline on AWS: a SageMaker Pipeline, its schedule, the rules that start it, and the
alert when a run fails.

- The pipeline (definition in `pipeline_definition`): guard, train, evaluate, register, run by
  its execution role, which may only start the jobs and pass the two job roles.
- An EventBridge Scheduler schedule (target: the pipeline, `sagemaker_pipeline_parameters`
  Trigger=schedule) and EventBridge rules for the triggers (`sagemaker_pipeline_target`,
  Trigger=drift|alarm|new-data), each with a role allowed only sagemaker:StartPipelineExecution on
  this pipeline ("Using IAM roles with EventBridge Scheduler", "Amazon SageMaker Pipelines as a
  target", EventBridge User Guide).
- Failed runs: a rule on "SageMaker Model Building Pipeline Execution Status Change" with status
  Failed, to the platform's alert topic.

Roles: `train` for the training and evaluation jobs (the data, the pipeline's output prefix),
`register` for the guard and registration steps (assumes the registration environment's
promoter role, the only writer of models/, under a session named pipeline-<name>).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from mlplatform import naming
from mlplatform.components.aws import policies
from mlplatform.components.aws.model_endpoint import NetworkPlacement, split_s3_uri
from mlplatform.components.aws.pipeline_definition import Placement, definition
from mlplatform.spec.training_pipeline import TrainingPipeline as TrainingPipelineSpec

_ECR = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>[^:@]+)")
# Where SageMaker jobs write their logs; SageMaker names the groups.
JOB_LOG_GROUPS = ("/aws/sagemaker/TrainingJobs", "/aws/sagemaker/ProcessingJobs")
PIPELINE_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"


@dataclass
class TrainingPipelineArgs:
    spec: TrainingPipelineSpec
    names: naming.Names
    registration: naming.Names  # the first environment in promotion order: where versions are registered
    tags: dict[str, str]
    account_id: str
    region: str
    partition: str
    kms_key_arn: pulumi.Output[str]
    registry_bucket: pulumi.Output[str]
    registry_bucket_arn: pulumi.Output[str]
    training_data: str  # s3://bucket/prefix/
    network: NetworkPlacement | None = None
    alert_topic_arn: pulumi.Output[str] | None = None
    drift_schedules: list[str] = field(default_factory=list)  # Model Monitor schedule names


# --- event patterns (plain data: the tests match them against AWS's sample events) -----------
def drift_pattern(schedules: list[str], region: str, account: str, partition: str) -> dict[str, Any]:
    """A Model Monitor execution of one of the named schedules found violations: the processing
    job of the execution completed, its ExitMessage starting CompletedWithViolations (as
    model_monitor.execution_pattern). The schedule ARN is matched by region, account and name
    with a wildcard for its resource type, so the rule holds before the schedule exists (it is
    created once a version with a baseline is promoted)."""
    arns = [f"arn:{partition}:sagemaker:{region}:{account}:*/{name}" for name in sorted(schedules)]
    return {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Processing Job State Change"],
        "detail": {
            "MonitoringScheduleArn": [{"wildcard": arn} for arn in arns],
            "ProcessingJobStatus": ["Completed"],
            "ExitMessage": [{"prefix": "CompletedWithViolations"}],
        },
    }


def alarm_pattern(alarm_names: list[str]) -> dict[str, Any]:
    """One of the alarms went into ALARM ("CloudWatch Alarm State Change", CloudWatch User Guide)."""
    return {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": sorted(alarm_names), "state": {"value": ["ALARM"]}},
    }


def new_data_pattern(uri: str) -> dict[str, Any]:
    """An object was created under the prefix ("Object Created", S3 EventBridge events)."""
    bucket, prefix = split_s3_uri(uri)
    detail: dict[str, Any] = {"bucket": {"name": [bucket]}}
    if prefix:
        detail["object"] = {"key": [{"prefix": prefix}]}
    return {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": detail}


def failed_pattern(pipeline_arn: str) -> dict[str, Any]:
    """An execution of the pipeline failed (SageMaker's pipeline execution status change event)."""
    return {
        "source": ["aws.sagemaker"],
        "detail-type": [PIPELINE_STATUS_CHANGE],
        "detail": {"pipelineArn": [pipeline_arn], "currentPipelineExecutionStatus": ["Failed"]},
    }


def pipeline_arn(names: naming.Names, spec: TrainingPipelineSpec, region: str, account: str, partition: str) -> str:
    # SageMaker keeps resource names in ARNs in lower case.
    return f"arn:{partition}:sagemaker:{region}:{account}:pipeline/{names.pipeline(spec.name).lower()}"


class TrainingPipeline(pulumi.ComponentResource):
    """Outputs: `pipeline_name`, `pipeline_arn`, `schedule` (expression or None), `triggers`."""

    def __init__(self, name: str, args: TrainingPipelineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlplatform:aws:TrainingPipeline", name, None, opts)
        a, spec, n = args, args.spec, args.names
        self.args = args
        child = pulumi.ResourceOptions(parent=self)
        arn = pipeline_arn(n, spec, a.region, a.account_id, a.partition)
        self.arn = arn

        self.train_role = policies.service_role(
            f"{name}-train-role", n.role(spec.name, "train"), "sagemaker.amazonaws.com", a.tags, child, a.account_id
        )
        train_policy = aws.iam.RolePolicy(
            f"{name}-train-policy", role=self.train_role.id, policy=self._train_policy(), opts=child
        )
        self.register_role = policies.service_role(
            f"{name}-register-role",
            n.role(spec.name, "register"),
            "sagemaker.amazonaws.com",
            a.tags,
            child,
            a.account_id,
        )
        register_policy = aws.iam.RolePolicy(
            f"{name}-register-policy", role=self.register_role.id, policy=self._register_policy(arn), opts=child
        )
        self.execution_role = policies.service_role(
            f"{name}-pipeline-role",
            n.role(spec.name, "pipeline"),
            "sagemaker.amazonaws.com",
            a.tags,
            child,
            a.account_id,
        )
        execution_policy = aws.iam.RolePolicy(
            f"{name}-pipeline-policy", role=self.execution_role.id, policy=self._execution_policy(), opts=child
        )
        self.definition = self._definition()
        self.pipeline = aws.sagemaker.Pipeline(
            f"{name}-pipeline",
            pipeline_name=n.pipeline(spec.name),
            pipeline_display_name=n.pipeline(spec.name),
            pipeline_description=f"Train, evaluate and register {spec.model} (TrainingPipeline '{spec.name}')",
            role_arn=self.execution_role.arn,
            pipeline_definition=self.definition,
            tags=a.tags,
            # The roles its steps pass must hold their policies before the first run.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[train_policy, register_policy, execution_policy]),
        )

        self.schedule: aws.scheduler.Schedule | None = None
        if spec.schedule:
            self.schedule = self._schedule(name)
        self.rules: dict[str, aws.cloudwatch.EventRule] = {}
        triggers = spec.triggers
        starters: list[tuple[str, str, dict[str, Any]]] = []
        if triggers.drift and a.drift_schedules:
            starters.append(
                (
                    "drift",
                    "Model Monitor found violations of the baseline",
                    drift_pattern(a.drift_schedules, a.region, a.account_id, a.partition),
                )
            )
        if triggers.alarms:
            starters.append(("alarm", "an alarm went into ALARM", alarm_pattern(list(triggers.alarms))))
        if triggers.new_data:
            starters.append(("new-data", f"new data under {triggers.new_data}", new_data_pattern(triggers.new_data)))
        if starters:
            self._starters(name, starters)
        if a.alert_topic_arn is not None:
            self._failure_alert(name, arn, a.alert_topic_arn)

        self.register_outputs(
            {
                "pipeline_name": self.pipeline.pipeline_name,
                "pipeline_arn": self.pipeline.arn,
                "schedule": spec.schedule,
                "triggers": [t for t, _, _ in starters],
            }
        )

    # --- the pipeline ------------------------------------------------------------------
    def _definition(self) -> pulumi.Output[str]:
        a, spec = self.args, self.args.spec
        promoter = f"arn:{a.partition}:iam::{a.account_id}:role/{a.registration.access_role('promoter')}"
        subnets = a.network.subnet_ids if a.network else []
        groups = a.network.security_group_ids if a.network else []

        def build(values: list[Any]) -> str:
            bucket, key, train_role, register_role = values[:4]
            rest = values[4:]
            placement = Placement(
                names=a.names,
                registration=a.registration,
                region=a.region,
                account_id=a.account_id,
                partition=a.partition,
                registry_bucket=bucket,
                kms_key_arn=key,
                train_role_arn=train_role,
                register_role_arn=register_role,
                promoter_role_arn=promoter,
                training_data=a.training_data,
                subnet_ids=tuple(rest[: len(subnets)]),
                security_group_ids=tuple(rest[len(subnets) :]),
            )
            return json.dumps(definition(placement, spec), sort_keys=True)

        return pulumi.Output.all(
            a.registry_bucket, a.kms_key_arn, self.train_role.arn, self.register_role.arn, *subnets, *groups
        ).apply(build)

    def _execution_policy(self) -> pulumi.Output[str]:
        """The pipeline's own role: start, watch and stop its steps' jobs, and pass exactly the two
        job roles to SageMaker (CreateTrainingJob and CreateProcessingJob need iam:PassRole)."""
        a = self.args
        jobs = f"arn:{a.partition}:sagemaker:{a.region}:{a.account_id}"
        return policies.document(
            policies.allow(
                [
                    "sagemaker:AddTags",
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:StopTrainingJob",
                ],
                # SageMaker Pipelines names its steps' jobs pipelines-<execution id>-<step>-<suffix>
                # (the jobs named in its "Pipeline step state change" events, SageMaker Developer Guide).
                [f"{jobs}:training-job/pipelines-*", f"{jobs}:processing-job/pipelines-*"],
                sid="RunStepJobs",
            ),
            policies.allow(
                ["iam:PassRole"],
                [self.train_role.arn, self.register_role.arn],
                sid="PassJobRoles",
                StringEquals={"iam:PassedToService": "sagemaker.amazonaws.com"},
            ),
        )

    def _job_basics(self, images: list[str], sid: str) -> list[policies.Statement | None]:
        a = self.args
        arn = f"arn:{a.partition}"
        groups = [f"{arn}:logs:{a.region}:{a.account_id}:log-group:{g}" for g in JOB_LOG_GROUPS]
        repositories = sorted(
            {
                f"{arn}:ecr:{m['region']}:{m['account']}:repository/{m['repo']}"
                for m in (_ECR.match(i) for i in images)
                if m
            }
        )
        return [
            policies.allow(
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                [*groups, *(f"{g}:*" for g in groups)],
                sid="WriteJobLogs",
            ),
            policies.allow(
                ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                repositories,
                sid=sid,
            )
            if repositories
            else None,
            policies.allow(["ecr:GetAuthorizationToken"], "*", sid="EcrLogin") if repositories else None,
            policies.vpc_network_interfaces() if a.network else None,
            policies.kms_use(a.kms_key_arn),
            policies.kms_grant(a.kms_key_arn),
        ]

    def _output(self) -> pulumi.Output[str]:
        return pulumi.Output.concat(
            self.args.registry_bucket_arn, "/", naming.pipeline_output_prefix(self.args.spec.name)
        )

    def _train_policy(self) -> pulumi.Output[str]:
        """Training and evaluation jobs: read the training data, write the model and the metrics
        under the pipeline's output prefix (CreateTrainingJob / CreateProcessingJob execution
        role permissions, SageMaker Developer Guide "SageMaker AI Roles")."""
        a, spec = self.args, self.args.spec
        bucket, prefix = split_s3_uri(a.training_data)
        data_bucket = f"arn:{a.partition}:s3:::{bucket}"
        output_prefix = naming.pipeline_output_prefix(spec.name)
        return policies.document(
            policies.allow(["s3:GetObject"], f"{data_bucket}/{prefix}*", sid="ReadTrainingData"),
            policies.allow(
                ["s3:ListBucket"], data_bucket, sid="ListTrainingData", StringLike={"s3:prefix": [f"{prefix}*"]}
            ),
            policies.allow(
                ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                pulumi.Output.concat(self._output(), "*"),
                sid="WritePipelineOutput",
            ),
            policies.allow(
                ["s3:ListBucket"],
                a.registry_bucket_arn,
                sid="ListPipelineOutput",
                StringLike={"s3:prefix": [f"{output_prefix}*"]},
            ),
            policies.allow(["cloudwatch:PutMetricData"], "*", sid="PublishTrainingMetrics"),
            *self._job_basics([spec.train.image, spec.evaluation_image], "PullTrainingImages"),
        )

    def _register_policy(self, arn: str) -> pulumi.Output[str]:
        """Guard and registration steps: read the run's model and metrics, see and stop this
        pipeline's executions, and become the registration environment's promoter."""
        a, spec = self.args, self.args.spec
        assert spec.register is not None
        promoter = f"arn:{a.partition}:iam::{a.account_id}:role/{a.registration.access_role('promoter')}"
        output_prefix = naming.pipeline_output_prefix(spec.name)
        return policies.document(
            policies.allow(["s3:GetObject"], pulumi.Output.concat(self._output(), "*"), sid="ReadPipelineOutput"),
            policies.allow(
                ["s3:ListBucket"],
                a.registry_bucket_arn,
                sid="ListPipelineOutput",
                StringLike={"s3:prefix": [f"{output_prefix}*"]},
            ),
            policies.allow(["sagemaker:ListPipelineExecutions"], arn, sid="SeeOwnExecutions"),
            policies.allow(
                ["sagemaker:DescribePipelineExecution", "sagemaker:StopPipelineExecution"],
                f"{arn}/execution/*",
                sid="StopOwnExecution",
            ),
            policies.allow(["sts:AssumeRole"], promoter, sid="RegisterAsPromoter"),
            *self._job_basics([spec.register.image], "PullMlplatformImage"),
        )

    # --- what starts it ------------------------------------------------------------------
    def _starter_role(self, name: str, purpose: str, service: str) -> aws.iam.Role:
        """A role that may only start this pipeline (sagemaker:StartPipelineExecution on its ARN)."""
        a, spec = self.args, self.args.spec
        child = pulumi.ResourceOptions(parent=self)
        role = policies.service_role(
            f"{name}-{purpose}-role", a.names.role(spec.name, purpose), service, a.tags, child, a.account_id
        )
        aws.iam.RolePolicy(
            f"{name}-{purpose}-policy",
            role=role.id,
            policy=policies.document(
                policies.allow(["sagemaker:StartPipelineExecution"], self.pipeline.arn, sid="StartThisPipeline")
            ),
            opts=child,
        )
        return role

    def _schedule(self, name: str) -> aws.scheduler.Schedule:
        a, spec = self.args, self.args.spec
        role = self._starter_role(name, "scheduler", "scheduler.amazonaws.com")
        return aws.scheduler.Schedule(
            f"{name}-schedule",
            name=a.names.pipeline_rule(spec.name, "schedule"),
            description=f"Start {a.names.pipeline(spec.name)} ({spec.schedule}, UTC)",
            schedule_expression=spec.schedule,
            schedule_expression_timezone="UTC",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            state="ENABLED",
            target=aws.scheduler.ScheduleTargetArgs(
                arn=self.pipeline.arn,
                role_arn=role.arn,
                sagemaker_pipeline_parameters=aws.scheduler.ScheduleTargetSagemakerPipelineParametersArgs(
                    pipeline_parameters=[
                        aws.scheduler.ScheduleTargetSagemakerPipelineParametersPipelineParameterArgs(
                            name=naming.PIPELINE_TRIGGER_PARAMETER, value="schedule"
                        )
                    ]
                ),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_event_age_in_seconds=3600, maximum_retry_attempts=3
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
        )

    def _starters(self, name: str, starters: list[tuple[str, str, dict[str, Any]]]) -> None:
        a, spec = self.args, self.args.spec
        role = self._starter_role(name, "events", "events.amazonaws.com")
        for trigger, what, pattern in starters:
            rule = aws.cloudwatch.EventRule(
                f"{name}-{trigger}",
                name=a.names.pipeline_rule(spec.name, trigger),
                description=f"Start {a.names.pipeline(spec.name)} when {what}",
                event_pattern=json.dumps(pattern, sort_keys=True),
                tags=a.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{trigger}-target",
                rule=rule.name,
                arn=self.pipeline.arn,
                role_arn=role.arn,
                sagemaker_pipeline_target=aws.cloudwatch.EventTargetSagemakerPipelineTargetArgs(
                    pipeline_parameter_lists=[
                        aws.cloudwatch.EventTargetSagemakerPipelineTargetPipelineParameterListArgs(
                            name=naming.PIPELINE_TRIGGER_PARAMETER, value=trigger
                        )
                    ]
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
            )
            self.rules[trigger] = rule

    def _failure_alert(self, name: str, arn: str, topic_arn: pulumi.Output[str]) -> None:
        a, spec = self.args, self.args.spec
        rule = aws.cloudwatch.EventRule(
            f"{name}-failed",
            name=a.names.pipeline_rule(spec.name, "failed"),
            description=f"A run of {a.names.pipeline(spec.name)} failed",
            event_pattern=json.dumps(failed_pattern(arn), sort_keys=True),
            tags=a.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-failed-target",
            rule=rule.name,
            arn=topic_arn,
            input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                input_paths={"execution": "$.detail.pipelineExecutionArn"},
                input_template=json.dumps(f"TrainingPipeline {a.names.pipeline(spec.name)}: run <execution> failed"),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.rules["failed"] = rule
