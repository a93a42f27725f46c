"""SageMaker Model Monitor data-quality schedule for one endpoint, a child of a MonitoringStack.

Model Monitor compares what the endpoint captured with a baseline (statistics.json and
constraints.json, computed from the training data of the version being served) and reports
violations. AWS no longer opens Model Monitor to new customers ("Amazon SageMaker Model Monitor
availability change", SageMaker Developer Guide), so the MonitoringStack creates it only when the
blueprint says the account uses it (`model_monitor=True`), and only for a promoted version that
has a baseline: a monitor without one flags nothing.

Built after the endpoint (CreateDataQualityJobDefinition and CreateMonitoringSchedule look the
endpoint up), with EventBridge rules that send violations and failed executions to the topic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from mlplatform import naming
from mlplatform.components.aws import policies
from mlplatform.components.aws.model_endpoint import NetworkPlacement, split_s3_uri

REPOSITORY = "sagemaker-model-monitor-analyzer"
# The accounts that publish the prebuilt analyzer image, by region, as SageMaker documents its
# URI: <account>.dkr.ecr.<region>.amazonaws.com/sagemaker-model-monitor-analyzer, no tag
# ("Amazon SageMaker Model Monitor prebuilt container"; the SageMaker Python SDK's
# image_uri_config/model-monitor.json and the Terraform AWS provider's
# sagemaker/prebuilt_ecr_image_data_source.go carry the same table).
ANALYZER_ACCOUNTS = {
    "af-south-1": "875698925577",
    "ap-east-1": "001633400207",
    "ap-northeast-1": "574779866223",
    "ap-northeast-2": "709848358524",
    "ap-northeast-3": "990339680094",
    "ap-south-1": "126357580389",
    "ap-southeast-1": "245545462676",
    "ap-southeast-2": "563025443158",
    "ap-southeast-3": "669540362728",
    "ca-central-1": "536280801234",
    "cn-north-1": "453000072557",
    "cn-northwest-1": "453252182341",
    "eu-central-1": "048819808253",
    "eu-north-1": "895015795356",
    "eu-south-1": "933208885752",
    "eu-south-2": "437450045455",
    "eu-west-1": "468650794304",
    "eu-west-2": "749857270468",
    "eu-west-3": "680080141114",
    "il-central-1": "843974653677",
    "me-central-1": "588750061953",
    "me-south-1": "607024016150",
    "sa-east-1": "539772159869",
    "us-east-1": "156813124566",
    "us-east-2": "777275614652",
    "us-west-1": "890145073186",
    "us-west-2": "159807026194",
}
BASELINE_STATISTICS = naming.BASELINE_STATISTICS
BASELINE_CONSTRAINTS = naming.BASELINE_CONSTRAINTS


def analyzer_image(region: str) -> str | None:
    """The documented analyzer image URI in `region`, or None where SageMaker publishes none."""
    account = ANALYZER_ACCOUNTS.get(region)
    if account is None:
        return None
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}/{REPOSITORY}"


@dataclass
class DataQualityArgs:
    endpoint: str  # spec name
    endpoint_name: pulumi.Output[str]  # the Endpoint resource's name: the monitor waits for it
    baseline: str  # s3:// prefix holding statistics.json and constraints.json
    names: naming.Names
    tags: dict[str, str]
    account_id: str
    region: str
    partition: str
    kms_key_arn: pulumi.Input[str] | None
    registry_bucket: pulumi.Input[str]
    registry_bucket_arn: pulumi.Input[str]
    topic_arn: pulumi.Output[str]
    network: NetworkPlacement | None


def data_quality_monitor(parent: pulumi.Resource, name: str, a: DataQualityArgs) -> aws.sagemaker.MonitoringSchedule:
    """Role, job definition, hourly schedule and alerts for one endpoint, children of `parent`."""
    n = a.names
    child = pulumi.ResourceOptions(parent=parent)
    image = analyzer_image(a.region)
    if image is None:
        raise ValueError(f"SageMaker publishes no Model Monitor analyzer image in {a.region}")
    prefix = f"{name}-{a.endpoint}"
    role = policies.service_role(
        f"{prefix}-monitor-role",
        n.role(a.endpoint, "monitor"),
        "sagemaker.amazonaws.com",
        a.tags,
        child,
        account_id=a.account_id,
    )
    policy = aws.iam.RolePolicy(f"{prefix}-monitor-policy", role=role.id, policy=_role_policy(a, image), opts=child)
    job = aws.sagemaker.DataQualityJobDefinition(
        f"{prefix}-data-quality",
        name=n.data_quality_job(a.endpoint),
        role_arn=role.arn,
        data_quality_app_specification=aws.sagemaker.DataQualityJobDefinitionDataQualityAppSpecificationArgs(
            image_uri=image,
            # Per-feature metrics in CloudWatch (publish_cloudwatch_metrics, Container Contract Inputs).
            environment={"publish_cloudwatch_metrics": "Enabled"},
        ),
        data_quality_baseline_config=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigArgs(
            constraints_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigConstraintsResourceArgs(
                s3_uri=f"{a.baseline}{BASELINE_CONSTRAINTS}"
            ),
            statistics_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigStatisticsResourceArgs(
                s3_uri=f"{a.baseline}{BASELINE_STATISTICS}"
            ),
        ),
        data_quality_job_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputArgs(
            endpoint_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputEndpointInputArgs(
                endpoint_name=a.endpoint_name
            )
        ),
        data_quality_job_output_config=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigArgs(
            kms_key_id=a.kms_key_arn,
            monitoring_outputs=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsArgs(
                s3_output=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3OutputArgs(
                    s3_uri=pulumi.Output.concat(
                        "s3://", a.registry_bucket, "/", naming.monitoring_reports_prefix(a.endpoint).rstrip("/")
                    )
                )
            ),
        ),
        job_resources=aws.sagemaker.DataQualityJobDefinitionJobResourcesArgs(
            cluster_config=aws.sagemaker.DataQualityJobDefinitionJobResourcesClusterConfigArgs(
                instance_count=1,
                instance_type="ml.m5.large",
                volume_size_in_gb=20,
                volume_kms_key_id=a.kms_key_arn,
            )
        ),
        network_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigArgs(
            enable_inter_container_traffic_encryption=True,
            enable_network_isolation=True,
            vpc_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigVpcConfigArgs(
                subnets=a.network.subnet_ids, security_group_ids=a.network.security_group_ids
            )
            if a.network
            else None,
        ),
        stopping_condition=aws.sagemaker.DataQualityJobDefinitionStoppingConditionArgs(max_runtime_in_seconds=3600),
        tags=a.tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[policy]),
    )
    schedule = aws.sagemaker.MonitoringSchedule(
        f"{prefix}-data-quality-schedule",
        name=n.data_quality_job(a.endpoint),
        monitoring_schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigArgs(
            monitoring_type="DataQuality",
            monitoring_job_definition_name=job.name,
            schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigScheduleConfigArgs(
                schedule_expression="cron(0 * ? * * *)"
            ),
        ),
        tags=a.tags,
        opts=child,
    )
    _alert(parent, f"{prefix}-drift-violations", a, schedule, violations=True)
    _alert(parent, f"{prefix}-monitor-failed", a, schedule, violations=False)
    return schedule


def execution_pattern(schedule_arn: str, violations: bool) -> dict[str, object]:
    """EventBridge pattern for a monitoring execution of `schedule_arn` that found violations, or
    that failed. A monitoring execution is a processing job; the event's detail is the job as
    DescribeProcessingJob returns it, whose MonitoringScheduleArn names the schedule and whose
    ExitMessage starts with the execution status CompletedWithViolations when the data broke
    the baseline's constraints (SageMaker Developer Guide, "Interpret results")."""
    detail: dict[str, object] = {"MonitoringScheduleArn": [schedule_arn]}
    if violations:
        detail |= {"ProcessingJobStatus": ["Completed"], "ExitMessage": [{"prefix": "CompletedWithViolations"}]}
    else:
        detail |= {"ProcessingJobStatus": ["Failed", "Stopped"]}
    return {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Processing Job State Change"], "detail": detail}


def _alert(
    parent: pulumi.Resource, name: str, a: DataQualityArgs, schedule: aws.sagemaker.MonitoringSchedule, violations: bool
) -> None:
    what = "found violations of the baseline" if violations else "failed"
    rule = aws.cloudwatch.EventRule(
        name,
        name=a.names.monitor_alert_rule(a.endpoint, "violations" if violations else "failed"),
        description=f"A Model Monitor data-quality execution of {a.names.endpoint(a.endpoint)} {what}",
        event_pattern=schedule.arn.apply(lambda arn: json.dumps(execution_pattern(arn, violations))),
        tags=a.tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.cloudwatch.EventTarget(
        f"{name}-target",
        rule=rule.name,
        arn=a.topic_arn,
        input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
            input_paths={"job": "$.detail.ProcessingJobName", "message": "$.detail.ExitMessage"},
            input_template=json.dumps(f"Model Monitor on {a.names.endpoint(a.endpoint)} {what}: <job> <message>"),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _role_policy(a: DataQualityArgs, image: str) -> pulumi.Output[str]:
    """What a monitoring execution (a processing job) does, per the CreateProcessingJob execution
    role permissions (SageMaker Developer Guide, "SageMaker AI Roles")."""
    n, arn = a.names, f"arn:{a.partition}"
    reports = pulumi.Output.concat(a.registry_bucket_arn, "/", naming.monitoring_reports_prefix(a.endpoint))
    captured = pulumi.Output.concat(a.registry_bucket_arn, "/", naming.data_capture_prefix(a.endpoint))
    baseline_bucket, baseline_key = split_s3_uri(a.baseline)
    log_group = f"{arn}:logs:{a.region}:{a.account_id}:log-group:{PROCESSING_LOG_GROUP}"
    repository = image.split("/", 1)
    account = repository[0].split(".", 1)[0]
    return policies.document(
        policies.allow(["s3:GetObject"], pulumi.Output.concat(captured, "*"), sid="ReadCapturedData"),
        policies.allow(["s3:GetObject"], f"{arn}:s3:::{baseline_bucket}/{baseline_key}*", sid="ReadBaseline"),
        policies.allow(["s3:GetObject", "s3:PutObject"], pulumi.Output.concat(reports, "*"), sid="WriteReports"),
        policies.allow(["s3:ListBucket"], a.registry_bucket_arn, sid="ListCaptureAndReports"),
        policies.allow(
            ["sagemaker:DescribeEndpoint"],
            f"{arn}:sagemaker:{a.region}:{a.account_id}:endpoint/{n.endpoint(a.endpoint)}",
            sid="DescribeWatchedEndpoint",
        ),
        # The log group's own ARN (CreateLogGroup, DescribeLogStreams) and its streams' (:*).
        policies.allow(
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            [log_group, f"{log_group}:*"],
            sid="WriteJobLogs",
        ),
        # The per-feature metrics of the run (CloudWatch resources are "*" for PutMetricData).
        policies.allow(["cloudwatch:PutMetricData"], "*", sid="PublishMonitoringMetrics"),
        policies.allow(
            ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            f"{arn}:ecr:{a.region}:{account}:repository/{REPOSITORY}",
            sid="PullAnalyzerImage",
        ),
        policies.allow(["ecr:GetAuthorizationToken"], "*", sid="EcrLogin"),
        policies.vpc_network_interfaces() if a.network else None,
        policies.kms_use(a.kms_key_arn),
        policies.kms_grant(a.kms_key_arn),
    )


# Where processing jobs (monitoring executions among them) write their logs; SageMaker names it.
PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
