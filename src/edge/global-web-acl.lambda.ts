/**
 * Custom resource handler (behind the aws-cdk-lib Provider framework) for what an edge needs in us-east-1, whatever
 * region the stack is in: the CLOUDFRONT-scope AWS WAF web ACL with its logging (Custom::OpenClawEdgeWebAcl), and
 * the alarms on CloudFront's and WAF's metrics, which exist only there (Custom::OpenClawEdgeAlarms, see
 * edgeAlarms below). For the web ACL, create, update and delete are all handled:
 * - create: CreateWebACL, then the log group and PutLoggingConfiguration (if anything after CreateWebACL fails,
 *   the new web ACL is deleted again before the error is reported, so a failed create leaves nothing behind);
 * - update: a new name means a new web ACL (CloudFormation deletes the old one); otherwise UpdateWebACL with a
 *   fresh lock token (retried when another writer got there first), then logging is brought in line;
 * - delete: logging off, then DeleteWebACL, waiting while CloudFront still holds the web ACL; a web ACL that is
 *   already gone counts as deleted. The log group is kept: it is the record of what the firewall did.
 */
import { CloudWatchClient, DeleteAlarmsCommand, PutMetricAlarmCommand, PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { AssociateKmsKeyCommand, CloudWatchLogsClient, CreateLogGroupCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteRuleCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateWebACLCommand,
  DeleteLoggingConfigurationCommand,
  DeleteWebACLCommand,
  GetWebACLCommand,
  PutLoggingConfigurationCommand,
  UpdateWebACLCommand,
  WAFV2Client,
} from '@aws-sdk/client-wafv2';

/** CloudFront's web ACLs live in us-east-1, whatever region calls. */
export const WAF_REGION = 'us-east-1';

export interface WebAclProperties {
  readonly Name: string;
  readonly Description: string;
  /** The rules, in the WAF API's shape, as JSON (CloudFormation would turn numbers into strings). */
  readonly RulesJson: string;
  readonly MetricName: string;
  /** The log group for the web ACL's logs (must start with aws-waf-logs-); none turns logging off. */
  readonly LogGroupName?: string;
  readonly LogRetentionDays?: string;
  /** Headers whose values never reach the logs. */
  readonly RedactedHeaders?: string[];
  /** A us-east-1 KMS key for the log group. */
  readonly LogKmsKeyArn?: string;
}

export interface WebAclEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceType?: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: WebAclProperties & { ServiceToken?: string };
  readonly OldResourceProperties?: WebAclProperties;
}

export interface AlarmsProperties {
  /** The alarms, as PutMetricAlarm inputs without actions, as JSON. */
  readonly AlarmsJson: string;
  /** arn:<partition>:cloudwatch:us-east-1:<account>:alarm: */
  readonly AlarmArnPrefix: string;
  /** The us-east-1 rule that forwards the alarms' state changes to the stack region's default event bus. */
  readonly ForwardRuleName: string;
  readonly TargetRegion: string;
  readonly TargetEventBusArn: string;
  readonly ForwardRoleArn: string;
}

export interface AlarmsEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceType: 'Custom::OpenClawEdgeAlarms';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: AlarmsProperties;
  readonly OldResourceProperties?: AlarmsProperties;
}

export interface WebAclResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** The clients and the pause between attempts; tests replace the pause. */
export const deps = {
  waf: new WAFV2Client({ region: WAF_REGION }),
  logs: new CloudWatchLogsClient({ region: WAF_REGION }),
  cloudwatch: new CloudWatchClient({ region: WAF_REGION }),
  events: new EventBridgeClient({ region: WAF_REGION }),
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  /** How long a delete waits for CloudFront to let go of the web ACL. */
  associatedWaitMs: 10 * 60 * 1000,
};

const SCOPE = 'CLOUDFRONT';

export async function handler(event: WebAclEvent | AlarmsEvent): Promise<WebAclResponse> {
  if (event.ResourceType === 'Custom::OpenClawEdgeAlarms') return edgeAlarms(event as AlarmsEvent);
  return webAcl(event as WebAclEvent);
}

async function webAcl(event: WebAclEvent): Promise<WebAclResponse> {
  const props = event.ResourceProperties;
  switch (event.RequestType) {
    case 'Create':
      return create(props);
    case 'Update': {
      const old = event.OldResourceProperties!;
      if (old.Name !== props.Name) return create(props);
      return update(event.PhysicalResourceId!, props, old);
    }
    case 'Delete':
      await remove(event.PhysicalResourceId!, event.ResourceProperties);
      return { PhysicalResourceId: event.PhysicalResourceId! };
  }
}

async function create(props: WebAclProperties): Promise<WebAclResponse> {
  const created = await deps.waf.send(new CreateWebACLCommand({ Name: props.Name, Scope: SCOPE, ...aclBody(props) }));
  const arn = created.Summary!.ARN!;
  try {
    await reconcileLogging(arn, props, undefined);
  } catch (error) {
    await remove(arn, props).catch(() => undefined);
    throw error;
  }
  return response(arn, props);
}

async function update(arn: string, props: WebAclProperties, old: WebAclProperties): Promise<WebAclResponse> {
  await withFreshLockToken(arn, props.Name, (lockToken) => deps.waf.send(new UpdateWebACLCommand({
    Name: props.Name, Scope: SCOPE, Id: idOf(arn), LockToken: lockToken, ...aclBody(props),
  })));
  await reconcileLogging(arn, props, old);
  return response(arn, props);
}

async function remove(arn: string, props: WebAclProperties): Promise<void> {
  if (!arn.startsWith('arn:')) return; // a create that failed before the web ACL existed
  await ignoreMissing(deps.waf.send(new DeleteLoggingConfigurationCommand({ ResourceArn: arn })));
  const deadline = Date.now() + deps.associatedWaitMs;
  for (;;) {
    try {
      await withFreshLockToken(arn, props.Name, (lockToken) => deps.waf.send(new DeleteWebACLCommand({
        Name: props.Name, Scope: SCOPE, Id: idOf(arn), LockToken: lockToken,
      })));
      return;
    } catch (error) {
      if (errorName(error) === 'WAFNonexistentItemException') return;
      // CloudFront releases a web ACL some time after its distribution is deleted or changed.
      if (errorName(error) === 'WAFAssociatedItemException' && Date.now() < deadline) {
        await deps.sleep(15_000);
        continue;
      }
      throw error;
    }
  }
}

/** Runs `write` with the web ACL's current lock token, again with a new one when another writer changed it. */
async function withFreshLockToken(arn: string, name: string, write: (lockToken: string) => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = await deps.waf.send(new GetWebACLCommand({ Name: name, Scope: SCOPE, Id: idOf(arn) }));
    try {
      await write(current.LockToken!);
      return;
    } catch (error) {
      if (errorName(error) !== 'WAFOptimisticLockException' || attempt >= 5) throw error;
      await deps.sleep(1000 * attempt);
    }
  }
}

async function reconcileLogging(arn: string, props: WebAclProperties, old: WebAclProperties | undefined): Promise<void> {
  if (!props.LogGroupName) {
    if (old?.LogGroupName) await ignoreMissing(deps.waf.send(new DeleteLoggingConfigurationCommand({ ResourceArn: arn })));
    return;
  }
  try {
    await deps.logs.send(new CreateLogGroupCommand({ logGroupName: props.LogGroupName, kmsKeyId: props.LogKmsKeyArn }));
  } catch (error) {
    if (errorName(error) !== 'ResourceAlreadyExistsException') throw error;
    if (props.LogKmsKeyArn) await deps.logs.send(new AssociateKmsKeyCommand({ logGroupName: props.LogGroupName, kmsKeyId: props.LogKmsKeyArn }));
  }
  if (props.LogRetentionDays) {
    await deps.logs.send(new PutRetentionPolicyCommand({ logGroupName: props.LogGroupName, retentionInDays: Number(props.LogRetentionDays) }));
  }
  await deps.waf.send(new PutLoggingConfigurationCommand({
    LoggingConfiguration: {
      ResourceArn: arn,
      LogDestinationConfigs: [logGroupArn(arn, props.LogGroupName)],
      RedactedFields: (props.RedactedHeaders ?? []).map((name) => ({ SingleHeader: { Name: name } })),
    },
  }));
}

function aclBody(props: WebAclProperties) {
  return {
    Description: props.Description,
    DefaultAction: { Allow: {} },
    Rules: withBinarySearchStrings(JSON.parse(props.RulesJson)),
    VisibilityConfig: { SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: props.MetricName },
  };
}

/** The API takes a byte match's search string as bytes; JSON carries it as text. */
function withBinarySearchStrings(value: any): any {
  if (Array.isArray(value)) return value.map(withBinarySearchStrings);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) =>
    [k, k === 'SearchString' && typeof v === 'string' ? new TextEncoder().encode(v) : withBinarySearchStrings(v)]));
}

function response(arn: string, props: WebAclProperties): WebAclResponse {
  return {
    PhysicalResourceId: arn,
    Data: {
      Arn: arn,
      Id: idOf(arn),
      ...(props.LogGroupName ? { LogGroupName: props.LogGroupName, LogGroupArn: logGroupArn(arn, props.LogGroupName) } : {}),
    },
  };
}

/** arn:<partition>:wafv2:us-east-1:<account>:global/webacl/<name>/<id> */
export function idOf(arn: string): string {
  return arn.split('/').pop()!;
}

function logGroupArn(webAclArn: string, logGroupName: string): string {
  const [, partition, , region, account] = webAclArn.split(':');
  return `arn:${partition}:logs:${region}:${account}:log-group:${logGroupName}`;
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | undefined)?.name;
}

async function ignoreMissing(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (errorName(error) !== 'WAFNonexistentItemException') throw error;
  }
}

/**
 * The edge's alarms in us-east-1 (where CloudFront's and WAF's metrics are), without actions of their own, and a
 * us-east-1 rule that forwards their state changes to the default event bus of the stack's region, where a rule
 * of the stack notifies the alarm topic. In us-east-1 itself nothing needs forwarding. Delete removes the rule's
 * target, the rule and the alarms; update also removes alarms that are no longer defined.
 */
async function edgeAlarms(event: AlarmsEvent): Promise<WebAclResponse> {
  const props = event.ResourceProperties;
  const physicalId = props.ForwardRuleName;
  if (event.RequestType === 'Delete') {
    await removeForwarding(event.PhysicalResourceId ?? physicalId);
    const names = alarmsOf(props).map((a) => a.AlarmName!);
    if (names.length > 0) await deps.cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: names }));
    return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId };
  }
  const alarms = alarmsOf(props);
  for (const alarm of alarms) await deps.cloudwatch.send(new PutMetricAlarmCommand(alarm));
  if (event.RequestType === 'Update' && event.OldResourceProperties) {
    const current = new Set(alarms.map((a) => a.AlarmName));
    const gone = alarmsOf(event.OldResourceProperties).map((a) => a.AlarmName!).filter((n) => !current.has(n));
    if (gone.length > 0) await deps.cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: gone }));
    if (event.OldResourceProperties.ForwardRuleName !== props.ForwardRuleName) await removeForwarding(event.OldResourceProperties.ForwardRuleName);
  }
  const alarmArns = alarms.map((a) => `${props.AlarmArnPrefix}${a.AlarmName}`);
  if (props.TargetRegion !== WAF_REGION) {
    await deps.events.send(new PutRuleCommand({
      Name: props.ForwardRuleName,
      Description: 'Forwards the OpenClaw edge alarms to the stack region',
      EventPattern: JSON.stringify({ 'source': ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], 'resources': alarmArns }),
      State: 'ENABLED',
    }));
    await deps.events.send(new PutTargetsCommand({
      Rule: props.ForwardRuleName,
      Targets: [{ Id: 'StackRegion', Arn: props.TargetEventBusArn, RoleArn: props.ForwardRoleArn }],
    }));
  } else {
    await removeForwarding(props.ForwardRuleName);
  }
  return { PhysicalResourceId: physicalId, Data: { AlarmArns: alarmArns.join(',') } };
}

function alarmsOf(props: AlarmsProperties): PutMetricAlarmCommandInput[] {
  return JSON.parse(props.AlarmsJson);
}

async function removeForwarding(ruleName: string): Promise<void> {
  for (const call of [
    () => deps.events.send(new RemoveTargetsCommand({ Rule: ruleName, Ids: ['StackRegion'] })),
    () => deps.events.send(new DeleteRuleCommand({ Name: ruleName })),
  ]) {
    try {
      await call();
    } catch (error) {
      if (errorName(error) !== 'ResourceNotFoundException') throw error;
    }
  }
}
