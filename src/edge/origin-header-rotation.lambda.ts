/**
 * Secrets Manager rotation of the edge's secret origin header, without dropping a request:
 * - createSecret: a new random value, staged AWSPENDING;
 * - setSecret: the host's regional web ACL accepts both the current and the pending value, then CloudFront sends the
 *   pending one (its edge locations switch over minutes; either value passes meanwhile);
 * - testSecret: the web ACL accepts the pending value;
 * - finishSecret: the pending value becomes AWSCURRENT. The previous value stays accepted until the next rotation
 *   replaces it, long after CloudFront finished deploying.
 */
import { CloudFrontClient, GetDistributionConfigCommand, UpdateDistributionCommand } from '@aws-sdk/client-cloudfront';
import {
  DescribeSecretCommand, GetRandomPasswordCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetWebACLCommand, UpdateWebACLCommand, WAFV2Client } from '@aws-sdk/client-wafv2';

export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
}

/** Where the header is used; set by the construct as environment variables. */
export interface RotationTargets {
  readonly distributionId: string;
  readonly originId: string;
  readonly headerName: string;
  readonly webAclName: string;
  readonly webAclId: string;
  readonly ruleName: string;
}

export const deps = {
  secrets: new SecretsManagerClient({}),
  waf: new WAFV2Client({}),
  cloudfront: new CloudFrontClient({}),
  targets: (): RotationTargets => ({
    distributionId: process.env.DISTRIBUTION_ID!,
    originId: process.env.ORIGIN_ID!,
    headerName: process.env.HEADER_NAME!,
    webAclName: process.env.WEB_ACL_NAME!,
    webAclId: process.env.WEB_ACL_ID!,
    ruleName: process.env.RULE_NAME!,
  }),
};

export async function handler(event: RotationEvent): Promise<void> {
  const described = await deps.secrets.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
  const stages = described.VersionIdsToStages ?? {};
  if (!stages[event.ClientRequestToken]) throw new Error(`version ${event.ClientRequestToken} is not a version of the secret`);
  if (stages[event.ClientRequestToken].includes('AWSCURRENT') && event.Step !== 'finishSecret') return;
  switch (event.Step) {
    case 'createSecret': return createSecret(event);
    case 'setSecret': return setSecret(event);
    case 'testSecret': return testSecret(event);
    case 'finishSecret': return finishSecret(event, stages);
  }
}

async function valueOf(secretId: string, stage: 'AWSCURRENT' | 'AWSPENDING', versionId?: string): Promise<string> {
  const secret = await deps.secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage, VersionId: versionId }));
  return JSON.parse(secret.SecretString!).current;
}

async function createSecret(event: RotationEvent): Promise<void> {
  try {
    await valueOf(event.SecretId, 'AWSPENDING', event.ClientRequestToken);
    return; // created by an earlier attempt
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
  }
  const random = await deps.secrets.send(new GetRandomPasswordCommand({ PasswordLength: 48, ExcludePunctuation: true }));
  await deps.secrets.send(new PutSecretValueCommand({
    SecretId: event.SecretId,
    ClientRequestToken: event.ClientRequestToken,
    SecretString: JSON.stringify({ current: random.RandomPassword }),
    VersionStages: ['AWSPENDING'],
  }));
}

async function setSecret(event: RotationEvent): Promise<void> {
  const current = await valueOf(event.SecretId, 'AWSCURRENT');
  const pending = await valueOf(event.SecretId, 'AWSPENDING', event.ClientRequestToken);
  await acceptHeaderValues([current, pending]);
  await sendHeaderValue(pending);
}

async function testSecret(event: RotationEvent): Promise<void> {
  const pending = await valueOf(event.SecretId, 'AWSPENDING', event.ClientRequestToken);
  const { rule } = await requireHeaderRule();
  if (!acceptedValues(rule).includes(pending)) throw new Error('the web ACL does not accept the pending origin header value');
}

async function finishSecret(event: RotationEvent, stages: Record<string, string[]>): Promise<void> {
  const currentVersion = Object.entries(stages).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
  if (currentVersion === event.ClientRequestToken) return;
  await deps.secrets.send(new UpdateSecretVersionStageCommand({
    SecretId: event.SecretId,
    VersionStage: 'AWSCURRENT',
    MoveToVersionId: event.ClientRequestToken,
    RemoveFromVersionId: currentVersion,
  }));
}

/** The web ACL's header rule blocks every request without one of `values` (exactly, byte for byte). */
async function acceptHeaderValues(values: string[]): Promise<void> {
  const t = deps.targets();
  for (let attempt = 1; ; attempt++) {
    const { acl, lockToken } = await requireHeaderRule();
    const match = (value: string) => ({
      ByteMatchStatement: {
        FieldToMatch: { SingleHeader: { Name: t.headerName } },
        PositionalConstraint: 'EXACTLY' as const,
        SearchString: new TextEncoder().encode(value),
        TextTransformations: [{ Priority: 0, Type: 'NONE' as const }],
      },
    });
    const distinct = [...new Set(values)];
    const accepted = distinct.length === 1 ? match(distinct[0]) : { OrStatement: { Statements: distinct.map(match) } };
    const rules = acl.Rules!.map((r) => (r.Name === t.ruleName ? { ...r, Statement: { NotStatement: { Statement: accepted } } } : r));
    try {
      await deps.waf.send(new UpdateWebACLCommand({
        Name: t.webAclName,
        Scope: 'REGIONAL',
        Id: t.webAclId,
        LockToken: lockToken,
        DefaultAction: acl.DefaultAction,
        Rules: rules,
        VisibilityConfig: acl.VisibilityConfig,
        Description: acl.Description,
        CustomResponseBodies: acl.CustomResponseBodies,
        CaptchaConfig: acl.CaptchaConfig,
        ChallengeConfig: acl.ChallengeConfig,
        TokenDomains: acl.TokenDomains,
        AssociationConfig: acl.AssociationConfig,
      }));
      return;
    } catch (error) {
      if ((error as { name?: string }).name !== 'WAFOptimisticLockException' || attempt >= 5) throw error;
    }
  }
}

async function requireHeaderRule() {
  const t = deps.targets();
  const got = await deps.waf.send(new GetWebACLCommand({ Name: t.webAclName, Scope: 'REGIONAL', Id: t.webAclId }));
  const rule = got.WebACL!.Rules!.find((r) => r.Name === t.ruleName);
  if (!rule) throw new Error(`the web ACL has no rule ${t.ruleName}`);
  return { acl: got.WebACL!, lockToken: got.LockToken!, rule };
}

/** The header values a NOT(match) or NOT(OR(matches)) rule accepts. */
export function acceptedValues(rule: { Statement?: any }): string[] {
  const inner = rule.Statement?.NotStatement?.Statement;
  const matches = inner?.OrStatement ? inner.OrStatement.Statements : [inner];
  return matches
    .map((s: any) => s?.ByteMatchStatement?.SearchString)
    .filter((v: unknown) => v !== undefined)
    .map((v: Uint8Array | string) => (typeof v === 'string' ? v : new TextDecoder().decode(v)));
}

/** CloudFront sends `value` in the header to the host's origin. */
async function sendHeaderValue(value: string): Promise<void> {
  const t = deps.targets();
  const got = await deps.cloudfront.send(new GetDistributionConfigCommand({ Id: t.distributionId }));
  const config = got.DistributionConfig!;
  const origin = config.Origins!.Items!.find((o) => o.Id === t.originId);
  if (!origin) throw new Error(`the distribution has no origin ${t.originId}`);
  const others = (origin.CustomHeaders?.Items ?? []).filter((h) => h.HeaderName!.toLowerCase() !== t.headerName);
  const items = [...others, { HeaderName: t.headerName, HeaderValue: value }];
  origin.CustomHeaders = { Quantity: items.length, Items: items };
  await deps.cloudfront.send(new UpdateDistributionCommand({ Id: t.distributionId, IfMatch: got.ETag, DistributionConfig: config }));
}
