import { Aws, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BudgetFunction } from './budget-function';
import {
  ENV_BEDROCK_ROLE_NAME, ENV_BLOCK_POLICY_ARNS, ENV_DEFAULT_BUDGET_USD, ENV_ENFORCEMENT, ENV_LOG_GROUP_NAME, ENV_PRICES,
  ENV_SECRET_PREFIX, ENV_TABLE_NAME, ENV_THRESHOLDS, ENV_TOPIC_ARN, METRIC_BLOCKED, METRIC_NAMESPACE, METRIC_OVER_BUDGET,
  METRIC_RUN_LAG, METRIC_SPEND, METRIC_TOKENS, METRIC_UNBLOCKABLE, TABLE_PARTITION_KEY, TABLE_SORT_KEY, TENANT_DIMENSION,
  blockPolicyDocument,
} from './contract';
import { BedrockModelPrice } from './model-price';
import { DEFAULT_PRICES, DEFAULT_PRICES_AS_OF, resolvePrices } from './prices';
import { alarmTopic } from '../../core/alarm-topic';
import { BASIC_EXECUTION_ROLE_RULE, INLINE_POLICY_RULES, LAMBDA_PLACEMENT_RULES, acknowledge } from '../../core/nag';
import { encryptedLogGroup, retainedTable } from '../../core/storage';
import { checkEmails, invalidProp } from '../../core/validation';

/** What happens when a tenant's Bedrock spend reaches its monthly budget. */
export enum BudgetEnforcement {
  /** Announce it on the budget topic; the tenant keeps calling Bedrock. */
  ALERT = 'ALERT',
  /**
   * Announce it and deny the tenant's Bedrock calls until the month ends or its budget is raised (the gateway and
   * everything else of the tenant keep running).
   */
  BLOCK = 'BLOCK',
}

/**
 * Per-tenant Bedrock budgets of `OpenClawTenantPlatform`: spend measured from Bedrock model invocation logs,
 * alerts at thresholds and, with `BudgetEnforcement.BLOCK`, a tenant's Bedrock access denied at 100 %. A tenant's
 * budget is the `budget-usd` tag of its gateway token (`budgetUsd` of `addTenant`, `tenantDefaults`, or
 * `aws secretsmanager tag-resource` for self-service tenants). See docs/budgets.md.
 */
export interface TenantBudgetOptions {
  /**
   * Measure and enforce budgets. Needs Bedrock model invocation logging into CloudWatch Logs: the platform's own
   * audit trail turns it on for the account and region; a trail given in `bedrockAudit` must have it.
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * What happens at 100 % of a tenant's budget.
   * @default BudgetEnforcement.BLOCK
   */
  readonly enforcement?: BudgetEnforcement;

  /**
   * How often spend is measured. A tenant may overspend by what it uses within one interval plus about 15 minutes
   * (invocation log records are counted once they have settled).
   * @default Duration.hours(1)
   */
  readonly interval?: Duration;

  /**
   * Percentages of the budget announced on the budget topic, once each per tenant per month.
   * @default [80, 100]
   */
  readonly alertThresholds?: number[];

  /**
   * Prices added to (or replacing those of the same model id in) `TenantBudgets.DEFAULT_PRICES`. Every model the
   * tenants may invoke must have a price.
   * @default - the default prices
   */
  readonly prices?: BedrockModelPrice[];

  /**
   * The topic of budget alerts, blocks and unblocks (one message per tenant and event).
   * @default - a new topic encrypted with the platform key
   */
  readonly alertTopic?: sns.ITopic;

  /**
   * E-mail addresses subscribed to the budget topic.
   * @default - none
   */
  readonly alertEmails?: string[];
}

/** What the platform hands to its budgets. @internal */
export interface TenantBudgetsContext {
  readonly vpc: ec2.IVpc;
  readonly key: kms.IKey;
  /** The role tenants assume to call Bedrock (session name = namespace); the block policies are attached to it. */
  readonly bedrockRole: iam.IRole;
  readonly invocationLogGroup: logs.ILogGroup;
  /** Where the budget function's own alarms go (the platform's alarm topic). */
  readonly alarmTopic: sns.ITopic;
  readonly defaultBudgetUsd: number;
  readonly allowedModelIds: string[];
  readonly logRetention: logs.RetentionDays;
  /** The name prefix of the tenants' gateway-token secrets. */
  readonly secretPrefix: string;
}

/** How many block policies the Bedrock role carries: each holds about 150 namespaces. */
const BLOCK_POLICY_SLOTS = 5;

/**
 * Per-tenant Bedrock budgets: a scheduled function counts each tenant's tokens per model from the Bedrock model
 * invocation logs (one Logs Insights query per run), prices them, keeps month-to-date totals in DynamoDB, announces
 * thresholds on an encrypted topic, publishes a spend and a token metric per tenant, and with `BLOCK` enforcement
 * denies Bedrock to tenants at 100 % through policies on the tenants' Bedrock role. Created by
 * `OpenClawTenantPlatform` (prop `budgets`).
 */
export class TenantBudgets extends Construct {
  /** The default price table (see `DEFAULT_PRICES_AS_OF` for the date and source). */
  public static readonly DEFAULT_PRICES: BedrockModelPrice[] = DEFAULT_PRICES;
  /**
   * The date of the default prices: the us-east-1 on-demand list prices of the Amazon Bedrock pricing page, taken
   * from public summaries of that page on this date. Check them against the page before relying on them.
   */
  public static readonly DEFAULT_PRICES_AS_OF: string = DEFAULT_PRICES_AS_OF;

  /** @internal */
  public static _create(scope: Construct, id: string, options: TenantBudgetOptions, ctx: TenantBudgetsContext): TenantBudgets {
    return new TenantBudgets(scope, id, options, ctx);
  }

  /** Month-to-date usage per tenant and model, and the run's state (retained). */
  public readonly table: dynamodb.ITable;
  /** The function that measures, alerts and enforces. */
  public readonly budgetFunction: lambda.IFunction;
  /** The topic of budget alerts, blocks and unblocks. */
  public readonly alertTopic: sns.ITopic;
  /** The policies on the tenants' Bedrock role that list blocked tenants (the function rewrites them). */
  public readonly blockPolicies: iam.IManagedPolicy[];
  /** The schedule of the function. */
  public readonly schedule: events.Rule;
  /** Spend, tokens and blocks per tenant. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** The alarms: the function failing, usage counting falling behind, more tenants to block than the policies hold. */
  public readonly alarms: cloudwatch.Alarm[];
  /** The enforcement in effect. */
  public readonly enforcement: BudgetEnforcement;
  /** Scheduled runs in a 30-day month, for the cost estimate. @internal */
  public readonly _runsPerMonth: number;

  private constructor(scope: Construct, id: string, o: TenantBudgetOptions, ctx: TenantBudgetsContext) {
    super(scope, id);
    const enforcement = o.enforcement ?? BudgetEnforcement.BLOCK;
    this.enforcement = enforcement;
    const interval = o.interval ?? Duration.hours(1);
    const minutes = interval.toMinutes({ integral: false });
    if (Token.isUnresolved(minutes) || !Number.isInteger(minutes) || minutes < 5 || minutes > 1440) {
      invalidProp(this, 'budgets.interval', Token.isUnresolved(minutes) ? interval : interval.toHumanString(), 'whole minutes from 5 minutes to 24 hours');
    }
    this._runsPerMonth = Math.round((30 * 24 * 60) / minutes);
    const thresholds = o.alertThresholds ?? [80, 100];
    thresholds.forEach((t, i) => {
      if (!Number.isInteger(t) || t < 1 || t > 1000 || (i > 0 && t <= thresholds[i - 1])) {
        invalidProp(this, 'budgets.alertThresholds', thresholds, 'whole percentages from 1 to 1000, ascending, each once');
      }
    });
    checkEmails(this, 'budgets.alertEmails', o.alertEmails);
    const prices = resolvePrices(this, o.prices, ctx.allowedModelIds);
    const key = ctx.key;

    const table = retainedTable(this, 'Usage', key, {
      partitionKey: { name: TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SORT_KEY, type: dynamodb.AttributeType.STRING },
    }, 'Point-in-time recovery keeps 35 days of every change to the usage table; it is retained and deletion-protected, and the invocation logs it is counted from are kept too.');
    this.table = table;

    this.alertTopic = alarmTopic(this, 'Topic', key, { given: o.alertTopic, emails: o.alertEmails });

    this.blockPolicies = Array.from({ length: BLOCK_POLICY_SLOTS }, (_, i) => {
      const policy = new iam.ManagedPolicy(this, `BlockPolicy${i}`, {
        description: `OpenClaw tenant budgets: tenants whose Bedrock budget is spent (slot ${i + 1} of ${BLOCK_POLICY_SLOTS}; rewritten by the budget function)`,
        // The template's document never changes, so CloudFormation never overwrites what the function wrote.
        document: iam.PolicyDocument.fromJson(blockPolicyDocument([])),
        roles: [ctx.bedrockRole],
      });
      return policy;
    });

    const fn = new BudgetFunction(this, 'Function', {
      description: 'OpenClaw tenant budgets: measures Bedrock spend per tenant from invocation logs, alerts, blocks and unblocks',
      timeout: Duration.minutes(10),
      memorySize: 512,
      environmentEncryption: key,
      logGroup: encryptedLogGroup(this, 'FunctionLogs', key, ctx.logRetention),
      vpc: ctx.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      // One run at a time (a second one also loses the claim on the window in the table).
      reservedConcurrentExecutions: 1,
      environment: {
        [ENV_TABLE_NAME]: table.tableName,
        [ENV_LOG_GROUP_NAME]: ctx.invocationLogGroup.logGroupName,
        [ENV_BEDROCK_ROLE_NAME]: ctx.bedrockRole.roleName,
        [ENV_TOPIC_ARN]: this.alertTopic.topicArn,
        [ENV_BLOCK_POLICY_ARNS]: this.blockPolicies.map((p) => p.managedPolicyArn).join(','),
        [ENV_ENFORCEMENT]: enforcement,
        [ENV_THRESHOLDS]: thresholds.join(','),
        [ENV_DEFAULT_BUDGET_USD]: String(ctx.defaultBudgetUsd),
        [ENV_PRICES]: JSON.stringify(prices),
        [ENV_SECRET_PREFIX]: ctx.secretPrefix,
      },
    });
    this.budgetFunction = fn;
    this.grant(fn, ctx, table, key, o.alertTopic !== undefined);
    acknowledge(fn, LAMBDA_PLACEMENT_RULES.filter((r) => !r.includes('Concurrency') && !r.includes('InsideVPC')),
      'A scheduled run: a failed run leaves its window pending in the table and the next run finishes it, so a dead-letter queue would hold nothing to replay; the errors alarm reports failures.');

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Runs the OpenClaw tenant budget function',
      schedule: events.Schedule.rate(interval),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });

    this.alarms = this.createAlarms(fn, minutes, ctx.alarmTopic);
    this.dashboard = this.createDashboard(fn);
  }

  private grant(fn: lambda.Function, ctx: TenantBudgetsContext, table: dynamodb.Table, key: kms.IKey, topicGiven: boolean): void {
    const logGroupArn = `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${ctx.invocationLogGroup.logGroupName}`;
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'QueryInvocationLogs',
      actions: ['logs:StartQuery'],
      resources: [logGroupArn, `${logGroupArn}:*`],
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ReadQueryResults',
      // Query results are addressed by query id: these actions have no resource to name.
      actions: ['logs:GetQueryResults', 'logs:StopQuery'],
      resources: ['*'],
    }));
    table.grant(fn, 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query');
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'TableKeyThroughDynamoDb',
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*', 'kms:DescribeKey'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Aws.REGION}.amazonaws.com` } },
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ListTenantBudgets',
      // ListSecrets has no resource-level permissions; it returns names and tags, never values.
      actions: ['secretsmanager:ListSecrets'],
      resources: ['*'],
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'PublishBudgetEvents',
      actions: ['sns:Publish'],
      resources: [this.alertTopic.topicArn],
    }));
    // A topic created here is encrypted with the platform key; a given one with its own key, if any.
    const topicKey = topicGiven ? this.alertTopic.masterKey : key;
    if (topicKey) {
      fn.addToRolePolicy(new iam.PolicyStatement({
        sid: 'TopicKeyThroughSns',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: [topicKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sns.${Aws.REGION}.amazonaws.com` } },
      }));
    }
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'RewriteBlockPolicies',
      actions: ['iam:GetPolicy', 'iam:GetPolicyVersion', 'iam:ListPolicyVersions', 'iam:CreatePolicyVersion', 'iam:DeletePolicyVersion'],
      resources: this.blockPolicies.map((p) => p.managedPolicyArn),
    }));
    acknowledge(fn.role!, [BASIC_EXECUTION_ROLE_RULE],
      'The function writes its own logs with the basic execution policy; its other rights are the scoped policy beside it.');
    acknowledge(fn.role!, ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]'],
      'Lambda\'s managed policy for functions in a VPC: create and delete their own network interfaces.');
    const policy = fn.role!.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy;
    acknowledge(policy, INLINE_POLICY_RULES, 'The budget function\'s own policy: it exists for this function and is removed with it.');
    acknowledge(policy, ['AwsSolutions-IAM5[Resource::*]'],
      'logs:GetQueryResults and logs:StopQuery address a query by id and secretsmanager:ListSecrets lists names and tags: IAM accepts only * for them.');
    acknowledge(policy, [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:<${Stack.of(this).resolve((ctx.invocationLogGroup.node.defaultChild as logs.CfnLogGroup).logicalId)}>:*]`],
      'Logs Insights queries name the log group with a trailing :*.');
    acknowledge(policy, ['AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]'],
      'The key is used only through DynamoDB and SNS (kms:ViaService), for the table and the topic.');
  }

  private createAlarms(fn: lambda.Function, intervalMinutes: number, topic: sns.ITopic): cloudwatch.Alarm[] {
    const action = new cwActions.SnsAction(topic);
    const metric = (metricName: string, statistic: string) => new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE, metricName, statistic, period: Duration.hours(1),
    });
    const alarms = [
      new cloudwatch.Alarm(this, 'FunctionErrors', {
        alarmDescription: 'The OpenClaw tenant budget function failed: spend is not being measured or enforced (its logs say why; the next run resumes)',
        metric: fn.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'UsageLag', {
        alarmDescription: 'OpenClaw tenant budgets: usage has not been counted for more than three intervals',
        metric: metric(METRIC_RUN_LAG, 'Maximum'),
        threshold: 3 * intervalMinutes + 15,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        // No runs at all is a lag too.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
      new cloudwatch.Alarm(this, 'BlockCapacity', {
        alarmDescription: 'OpenClaw tenant budgets: more tenants are over budget than the block policies can hold; those are alerted but not blocked',
        metric: metric(METRIC_UNBLOCKABLE, 'Maximum'),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    for (const a of alarms) a.addAlarmAction(action);
    return alarms;
  }

  private createDashboard(fn: lambda.Function): cloudwatch.Dashboard {
    const topN = (title: string, metricName: string, label: string) => new cloudwatch.GraphWidget({
      title,
      width: 12,
      height: 8,
      left: [new cloudwatch.MathExpression({
        expression: `SELECT MAX(${metricName}) FROM SCHEMA("${METRIC_NAMESPACE}", ${TENANT_DIMENSION}) GROUP BY ${TENANT_DIMENSION} ORDER BY MAX() DESC LIMIT 20`,
        label,
        period: Duration.hours(1),
        usingMetrics: {},
      })],
    });
    const run = (metricName: string, label: string) => new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE, metricName, statistic: 'Maximum', period: Duration.hours(1), label,
    });
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(31),
      widgets: [
        [
          topN('Month-to-date Bedrock spend, top 20 tenants (USD)', METRIC_SPEND, 'spend'),
          topN('Month-to-date Bedrock tokens, top 20 tenants', METRIC_TOKENS, 'tokens'),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Tenants over budget and blocked',
            width: 12,
            left: [run(METRIC_OVER_BUDGET, 'over budget'), run(METRIC_BLOCKED, 'blocked'), run(METRIC_UNBLOCKABLE, 'over block capacity')],
          }),
          new cloudwatch.GraphWidget({
            title: 'Budget function',
            width: 12,
            left: [run(METRIC_RUN_LAG, 'usage lag (minutes)')],
            right: [fn.metricErrors({ period: Duration.hours(1) }), fn.metricDuration({ period: Duration.hours(1), statistic: 'Maximum' })],
          }),
        ],
      ],
    });
    return dashboard;
  }
}
