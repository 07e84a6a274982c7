/**
 * Custom resource handler (behind the aws-cdk-lib Provider framework) that owns a CLOUDFRONT-scope AWS WAF web ACL
 * and its logging in us-east-1, whatever region the stack is in. Create, update and delete are all handled:
 * - create: CreateWebACL, then the log group and PutLoggingConfiguration (if anything after CreateWebACL fails,
 *   the new web ACL is deleted again before the error is reported, so a failed create leaves nothing behind);
 * - update: a new name means a new web ACL (CloudFormation deletes the old one); otherwise UpdateWebACL with a
 *   fresh lock token (retried when another writer got there first), then logging is brought in line;
 * - delete: logging off, then DeleteWebACL, waiting while CloudFront still holds the web ACL; a web ACL that is
 *   already gone counts as deleted. The log group is kept: it is the record of what the firewall did.
 */
import { CloudWatchLogsClient, CreateLogGroupCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
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
}

export interface WebAclEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: WebAclProperties & { ServiceToken?: string };
  readonly OldResourceProperties?: WebAclProperties;
}

export interface WebAclResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** The clients and the pause between attempts; tests replace the pause. */
export const deps = {
  waf: new WAFV2Client({ region: WAF_REGION }),
  logs: new CloudWatchLogsClient({ region: WAF_REGION }),
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  /** How long a delete waits for CloudFront to let go of the web ACL. */
  associatedWaitMs: 10 * 60 * 1000,
};

const SCOPE = 'CLOUDFRONT';

export async function handler(event: WebAclEvent): Promise<WebAclResponse> {
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
    await deps.logs.send(new CreateLogGroupCommand({ logGroupName: props.LogGroupName }));
  } catch (error) {
    if (errorName(error) !== 'ResourceAlreadyExistsException') throw error;
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
