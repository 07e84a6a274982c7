/**
 * The provisioner: turns a confirmed Cognito user into a running tenant. One SQS message per user
 * ({@link ProvisionMessage}); every step is an idempotent "ensure", so a failure anywhere leaves a state that the
 * next delivery of the same message completes, and a replay of a finished message changes nothing:
 *
 * 1. the user: AdminGetUser, must exist, be enabled and CONFIRMED (the message carries no authority);
 * 2. the claim: one transaction writes `USER#` (PROVISIONING), claims `TENANT#<name>` and counts the tenant against
 *    the cap; a user who already has a record keeps its name, a taken name moves on to the next candidate, a full
 *    platform records the user as CAPPED (an administrator re-queues the message after raising the cap);
 * 3. the gateway token secret `openclaw/<tenant>/gateway-token` (created, or adopted when a previous attempt made it);
 * 4. the rotation schedule of that secret;
 * 5. the Pod Identity association of the tenant's service account with the tenant role;
 * 6. the tenant's Kubernetes objects (the same renderer the construct uses), in the renderer's order;
 * 7. the record becomes ACTIVE.
 *
 * A record in DEPROVISIONING, EXPORTED or REMOVED is never touched: a removed tenant is not brought back.
 * CDK-free: the provisioning function bundles this module.
 * @internal
 */
/* eslint-disable import/no-extraneous-dependencies -- the Lambda runtime provides @aws-sdk/* (bundled as external) */
import { AdminGetUserCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import {
  AttributeValue, DynamoDBClient, GetItemCommand, PutItemCommand, TransactWriteItemsCommand, UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreatePodIdentityAssociationCommand, DescribePodIdentityAssociationCommand, EKSClient, ListPodIdentityAssociationsCommand,
} from '@aws-sdk/client-eks';
import {
  CreateSecretCommand, DescribeSecretCommand, DescribeSecretCommandOutput, ListSecretVersionIdsCommand, PutSecretValueCommand,
  RestoreSecretCommand, RotateSecretCommand, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { PlatformSpec, renderTenant } from '../tenant-manifests';
import { TenantSpec, isTenantName, validateTenantSpec } from '../tenant-spec';
import {
  ENV, Kube, PROVISIONED_BY_SELF_SERVICE, ProvisionMessage, TAG_BUDGET_USD, TAG_PROVISIONED_BY, TAG_TENANT_NAMESPACE,
  TENANT_COUNT_KEY, TENANT_TABLE_KEY, TenantStatus, USER_POOL_ID_PATTERN, isSelfServiceToken, tagValue, tenantKey, userKey,
  CAP_METRIC, METRIC_NAMESPACE,
} from './contract';
import { Logger, envInt, errorFields, errorName, jsonLogger, requireEnv, tableKey, tenantRecordFromItem } from './handler-util';
import { randomGatewayToken, tenantNameCandidates } from './tenant-naming';

export type { LogLevel, Logger } from './handler-util';
export { errorFields, jsonLogger, tenantRecordFromItem } from './handler-util';

/** The steps of a provisioning, as recorded in a record's `steps`. @internal */
export type ProvisionStep = 'claim' | 'gateway-token' | 'rotation' | 'pod-identity' | 'manifests';


export { METRIC_NAMESPACE, CAP_METRIC };
/** What a CAPPED user is told (the record's `message`, which the session API returns). @internal */
export const CAPPED_MESSAGE = 'OpenClaw is at its tenant limit, so your workspace could not be created yet. Your account is kept: '
  + 'an administrator will create your workspace once there is room. There is nothing you need to do.';

/** The parts of an SQS record the provisioner reads. @internal */
export interface SqsRecord {
  readonly messageId: string;
  readonly body: string;
}

/** An SQS event (a batch of records). @internal */
export interface SqsEvent {
  readonly Records: readonly SqsRecord[];
}

/** The answer of a handler with `reportBatchItemFailures`: the records to deliver again. @internal */
export interface SqsBatchResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

/** The provisioner's settings, read from its environment by {@link provisionConfigFromEnvironment}. @internal */
export interface ProvisionConfig {
  readonly tenantTable: string;
  /** Tenants that may count against the cap at once (provisioning, active, deprovisioning). */
  readonly maxTenants: number;
  readonly clusterName: string;
  /** The role every tenant's gateway assumes through Pod Identity. */
  readonly tenantRoleArn: string;
  /** The KMS key of the gateway-token secrets. */
  readonly kmsKeyArn: string;
  readonly platformSpec: PlatformSpec;
  /** Every self-service tenant's quota and budget. */
  readonly tenantDefaults: Omit<TenantSpec, 'name'>;
  /** Scheduled rotation of the gateway tokens; absent when `ROTATION_DAYS` is empty. */
  readonly rotation?: { readonly functionArn: string; readonly days: number };
  /** When set, messages naming any other user pool are dropped. */
  readonly userPoolId?: string;
}

/**
 * The provisioner's settings from its environment: TENANT_TABLE, MAX_TENANTS, CLUSTER_NAME, TENANT_ROLE_ARN,
 * KMS_KEY_ARN, PLATFORM_SPEC (JSON), TENANT_DEFAULTS (JSON), ROTATION_DAYS (empty for none) with
 * ROTATION_FUNCTION_ARN, and the optional USER_POOL_ID. Throws an Error naming the first missing or bad variable.
 * @internal
 */
export function provisionConfigFromEnvironment(env: Record<string, string | undefined> = process.env): ProvisionConfig {
  const missing = (name: string) => new Error(`The environment variable ${name} must be set for the provisioning function`);
  const need = (name: string): string => requireEnv(env, name, missing);
  const json = (name: string): any => {
    try {
      return JSON.parse(need(name));
    } catch (error) {
      if ((error as Error).message.startsWith('The environment variable')) throw error;
      throw new Error(`The environment variable ${name} must be JSON`);
    }
  };
  const maxTenants = envInt(env, ENV.MAX_TENANTS, { min: 0 }, (raw) => (raw
    ? new Error(`The environment variable ${ENV.MAX_TENANTS} must be a whole number of tenants, got '${raw}'`)
    : missing(ENV.MAX_TENANTS)));
  const platformSpec = json(ENV.PLATFORM_SPEC) as PlatformSpec;
  const defaults = json(ENV.TENANT_DEFAULTS);
  const tenantDefaults = { cpu: defaults?.cpu, memory: defaults?.memory, pods: defaults?.pods, budgetUsd: defaults?.budgetUsd };
  // The same check the construct makes; a bad value fails every message loudly instead of half-provisioning them.
  validateTenantSpec({ name: 'config-check', ...tenantDefaults }, platformSpec?.gatewayResources);
  let rotation: ProvisionConfig['rotation'];
  if (env[ENV.ROTATION_DAYS]) {
    const days = envInt(env, ENV.ROTATION_DAYS, { min: 1, max: 1000 },
      (raw) => new Error(`The environment variable ${ENV.ROTATION_DAYS} must be empty or a whole number of days from 1 to 1000, got '${raw}'`));
    rotation = { functionArn: need(ENV.ROTATION_FUNCTION_ARN), days };
  }
  return {
    tenantTable: need(ENV.TENANT_TABLE),
    maxTenants,
    clusterName: need(ENV.CLUSTER_NAME),
    tenantRoleArn: need(ENV.TENANT_ROLE_ARN),
    kmsKeyArn: need(ENV.KMS_KEY_ARN),
    platformSpec,
    tenantDefaults,
    rotation,
    userPoolId: env[ENV.USER_POOL_ID] || undefined,
  };
}

/** Secrets Manager's rate expression for a rotation every `days` days. @internal */
export function rotationSchedule(days: number): string {
  return days === 1 ? 'rate(1 day)' : `rate(${days} days)`;
}

/** A message that can never be provisioned, however often it is delivered. @internal */
export class MalformedMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedMessageError';
  }
}

// Cognito's username pattern: letters, marks, symbols, numbers and punctuation; no spaces or control characters.
const COGNITO_USERNAME = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u;
/** Far above any real message (`{"version":1,...}` with a 55-character pool ID and a 128-character username). */
const MAX_BODY_LENGTH = 4096;

/**
 * A provisioning message from an SQS body; throws a {@link MalformedMessageError} (whose message never quotes the
 * body) for anything else: not JSON, not an object, another version, a user pool ID or username Cognito would not
 * accept. Unknown keys are ignored.
 * @internal
 */
export function parseProvisionMessage(body: unknown): ProvisionMessage {
  if (typeof body !== 'string') throw new MalformedMessageError('the body is not a string');
  if (body.length > MAX_BODY_LENGTH) throw new MalformedMessageError(`the body is longer than ${MAX_BODY_LENGTH} characters`);
  let parsed: any;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new MalformedMessageError('the body is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new MalformedMessageError('the body is not a JSON object');
  if (parsed.version !== 1) throw new MalformedMessageError('the message version is not 1');
  const { userPoolId, username } = parsed;
  if (typeof userPoolId !== 'string' || userPoolId.length > 55 || !USER_POOL_ID_PATTERN.test(userPoolId)) {
    throw new MalformedMessageError('userPoolId is not a Cognito user pool ID');
  }
  if (typeof username !== 'string' || [...username].length > 128 || !COGNITO_USERNAME.test(username)) {
    throw new MalformedMessageError('username is not a Cognito username');
  }
  return { version: 1, userPoolId, username };
}

/** What the provisioner works with; tests pass fakes. @internal */
export interface ProvisionDeps {
  readonly cognito: CognitoIdentityProviderClient;
  readonly dynamodb: DynamoDBClient;
  readonly secrets: SecretsManagerClient;
  readonly eks: EKSClient;
  /** The cluster API; called only when objects are applied. */
  readonly kube: () => Kube | Promise<Kube>;
  /** The settings; called once per batch (a failure fails the batch's well-formed records, to be retried). */
  readonly config: () => ProvisionConfig;
  /** @default jsonLogger */
  readonly log?: Logger;
  /** Writes one Embedded Metric Format line. @default a line on stdout */
  readonly metric?: (line: string) => void;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** @default randomGatewayToken */
  readonly newToken?: () => string;
}

/** How one well-formed message ended (errors are thrown instead, and the message is delivered again). @internal */
export type ProvisionOutcome =
  | 'provisioned' // this delivery finished the tenant
  | 'already-active' // a replay
  | 'capped'
  | 'not-provisionable' // the user is gone, disabled, unconfirmed, or of another pool
  | 'left-alone'; // the record is being or was deprovisioned

/**
 * The SQS handler (`reportBatchItemFailures`): records are provisioned one after the other; a record that failed is
 * returned for redelivery, a malformed one is logged and dropped.
 * @internal
 */
export function createHandler(deps: ProvisionDeps): (event: SqsEvent) => Promise<SqsBatchResponse> {
  const log = deps.log ?? jsonLogger;
  return async (event) => {
    const batchItemFailures: { itemIdentifier: string }[] = [];
    const records: readonly SqsRecord[] = Array.isArray(event?.Records) ? event.Records : [];
    let config: ProvisionConfig | undefined;
    for (const record of records) {
      const messageId = typeof record?.messageId === 'string' ? record.messageId : '';
      let message: ProvisionMessage;
      try {
        message = parseProvisionMessage(record?.body);
      } catch (error) {
        const bodyLength = typeof record?.body === 'string' ? record.body.length : undefined;
        log('warn', 'dropped a malformed provisioning message', { messageId, reason: (error as Error).message, bodyLength });
        continue;
      }
      try {
        config ??= deps.config();
        const outcome = await new Provisioning(deps, config, log, message).run();
        log('info', 'provisioning message handled', { messageId, username: message.username, outcome });
      } catch (error) {
        log('error', 'provisioning failed; the message will be delivered again', { messageId, username: message.username, error: errorFields(error) });
        if (messageId) batchItemFailures.push({ itemIdentifier: messageId });
      }
    }
    return { batchItemFailures };
  };
}

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });
const L = (values: string[]): AttributeValue => ({ L: values.map(S) });

/** Record states the provisioner never changes. */
const LEFT_ALONE: TenantStatus[] = ['DEPROVISIONING', 'EXPORTED', 'REMOVED'];

/** Stops a provisioning without an error (the record is no longer PROVISIONING, for instance). */
class Stop {
  constructor(public readonly outcome: ProvisionOutcome, public readonly reason: string) {}
}

/** One message's provisioning. */
class Provisioning {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly steps: ProvisionStep[] = [];
  private username = '';
  private tenant = '';

  constructor(
    private readonly deps: ProvisionDeps,
    private readonly config: ProvisionConfig,
    log: Logger,
    private readonly message: ProvisionMessage,
  ) {
    this.log = log;
    this.now = deps.now ?? (() => new Date());
  }

  public async run(): Promise<ProvisionOutcome> {
    try {
      return await this.provision();
    } catch (error) {
      if (error instanceof Stop) {
        this.log('info', 'provisioning stopped', { username: this.username || this.message.username, tenant: this.tenant || undefined, reason: error.reason });
        return error.outcome;
      }
      throw error;
    }
  }

  private async provision(): Promise<ProvisionOutcome> {
    if (this.config.userPoolId && this.message.userPoolId !== this.config.userPoolId) {
      throw new Stop('not-provisionable', 'the message names another user pool');
    }
    const { username, email } = await this.confirmedUser();
    this.username = username;
    const claim = await this.claim(email);
    this.tenant = claim.tenant;
    this.steps.push('claim');

    const rendered = renderTenant({ name: this.tenant, ...this.config.tenantDefaults }, this.config.platformSpec);
    const secret = await this.ensureGatewayToken(rendered.gatewayTokenSecretName, rendered.namespace, claim.claimedAt);
    await this.recordStep('gateway-token');
    if (this.config.rotation) {
      await this.ensureRotation(rendered.gatewayTokenSecretName, secret, this.config.rotation);
      await this.recordStep('rotation');
    }
    await this.ensurePodIdentity(rendered.namespace, rendered.serviceAccount);
    await this.recordStep('pod-identity');
    const kube = await this.deps.kube();
    for (const object of rendered.objects) await kube.apply(object);
    this.steps.push('manifests');
    await this.markActive();
    return 'provisioned';
  }

  /** The user, who must exist, be enabled and be CONFIRMED; the canonical username is the one Cognito returns. */
  private async confirmedUser(): Promise<{ username: string; email: string }> {
    let user;
    try {
      user = await this.deps.cognito.send(new AdminGetUserCommand({ UserPoolId: this.message.userPoolId, Username: this.message.username }));
    } catch (error) {
      if (errorName(error) === 'UserNotFoundException') throw new Stop('not-provisionable', 'the user does not exist');
      throw error;
    }
    if (user.Enabled !== true) throw new Stop('not-provisionable', 'the user is disabled');
    if (user.UserStatus !== 'CONFIRMED') throw new Stop('not-provisionable', `the user's status is ${user.UserStatus ?? 'unknown'}, not CONFIRMED`);
    const username = user.Username ?? this.message.username;
    const email = user.UserAttributes?.find((a) => a.Name === 'email')?.Value ?? '';
    return { username, email };
  }

  private async readRecord() {
    const got = await this.deps.dynamodb.send(new GetItemCommand({
      TableName: this.config.tenantTable,
      Key: tableKey(userKey(this.username)),
      ConsistentRead: true,
    }));
    return tenantRecordFromItem(got.Item);
  }

  /**
   * The user's tenant name: the one already recorded, or the first free candidate claimed now, in one transaction
   * with the record and the count against the cap. Stops on an ACTIVE (replay), deprovisioned or capped user.
   */
  private async claim(email: string): Promise<{ tenant: string; claimedAt: Date }> {
    const candidates = tenantNameCandidates(this.username);
    let next = 0;
    // Each round either claims, stops, or learns something (a taken name, a record written meanwhile): bounded.
    for (let round = 0; round < candidates.length + 4; round++) {
      const record = await this.readRecord();
      if (record?.status === 'ACTIVE') throw new Stop('already-active', 'the tenant is already active');
      if (record && LEFT_ALONE.includes(record.status)) throw new Stop('left-alone', `the record is ${record.status}; a removed tenant is never provisioned again`);
      if (record?.status === 'PROVISIONING') {
        if (!isTenantName(record.tenant)) throw new Error(`the record of user ${this.username} names an invalid tenant '${record.tenant}'`);
        const claimedAt = new Date(record.claimedAt ?? record.createdAt);
        return { tenant: record.tenant, claimedAt: Number.isNaN(claimedAt.getTime()) ? new Date(0) : claimedAt };
      }
      if (record && record.status !== 'CAPPED') throw new Error(`the record of user ${this.username} has an unknown status '${record.status}'`);
      // With no room at all there is nothing to claim (an absent count would otherwise pass the condition below).
      if (this.config.maxTenants === 0) await this.recordCapped(email, record?.createdAt);
      if (next >= candidates.length) throw new Error(`every candidate tenant name of user ${this.username} is taken`);

      const tenant = candidates[next];
      const now = this.now();
      const at = now.toISOString();
      try {
        await this.deps.dynamodb.send(new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.config.tenantTable,
                Item: {
                  ...tableKey(userKey(this.username)),
                  username: S(this.username),
                  email: S(email),
                  tenant: S(tenant),
                  status: S('PROVISIONING'),
                  steps: L(['claim']),
                  createdAt: S(record?.createdAt || at),
                  updatedAt: S(at),
                  claimedAt: S(at),
                },
                // A new user, or one the cap turned away before.
                ConditionExpression: 'attribute_not_exists(#pk) OR #status = :capped',
                ExpressionAttributeNames: { '#pk': TENANT_TABLE_KEY, '#status': 'status' },
                ExpressionAttributeValues: { ':capped': S('CAPPED') },
              },
            },
            {
              Put: {
                TableName: this.config.tenantTable,
                Item: { ...tableKey(tenantKey(tenant)), username: S(this.username), createdAt: S(at) },
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': TENANT_TABLE_KEY },
              },
            },
            {
              Update: {
                TableName: this.config.tenantTable,
                Key: tableKey(TENANT_COUNT_KEY),
                UpdateExpression: 'ADD #count :one',
                ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
                ExpressionAttributeNames: { '#count': 'count' },
                ExpressionAttributeValues: { ':one': N(1), ':max': N(this.config.maxTenants) },
              },
            },
          ],
        }));
        this.log('info', 'tenant name claimed', { username: this.username, tenant });
        return { tenant, claimedAt: now };
      } catch (error) {
        if (errorName(error) !== 'TransactionCanceledException') throw error;
        const codes = ((error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((r) => r?.Code);
        const failed = (i: number) => codes[i] === 'ConditionalCheckFailed';
        if (!failed(0) && !failed(1) && !failed(2)) throw error; // a conflict or throttling: try again later
        if (failed(0)) continue; // the record changed meanwhile: read it again
        if (failed(2)) {
          await this.recordCapped(email, record?.createdAt);
          continue; // the next round reads the CAPPED record (or whatever replaced it) and stops
        }
        this.log('info', 'tenant name taken, trying the next candidate', { username: this.username, tenant });
        next++;
      }
    }
    throw new Error(`the tenant name of user ${this.username} could not be claimed: the records kept changing`);
  }

  /** Records the user as CAPPED (not an error: an administrator re-queues the message after raising the cap). */
  private async recordCapped(email: string, createdAt: string | undefined): Promise<void> {
    const now = this.now();
    const at = now.toISOString();
    try {
      await this.deps.dynamodb.send(new PutItemCommand({
        TableName: this.config.tenantTable,
        Item: {
          ...tableKey(userKey(this.username)),
          username: S(this.username),
          email: S(email),
          tenant: S(''),
          status: S('CAPPED'),
          message: S(CAPPED_MESSAGE),
          createdAt: S(createdAt || at),
          updatedAt: S(at),
        },
        ConditionExpression: 'attribute_not_exists(#pk) OR #status = :capped',
        ExpressionAttributeNames: { '#pk': TENANT_TABLE_KEY, '#status': 'status' },
        ExpressionAttributeValues: { ':capped': S('CAPPED') },
      }));
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return; // another delivery got further: read again
      throw error;
    }
    this.log('warn', 'the platform is at its tenant cap; the user is recorded as CAPPED', { username: this.username, maxTenants: this.config.maxTenants });
    const metric = this.deps.metric ?? ((line: string) => process.stdout.write(`${line}\n`));
    metric(JSON.stringify({
      _aws: {
        Timestamp: now.getTime(),
        CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: [[]], Metrics: [{ Name: CAP_METRIC, Unit: 'Count' }] }],
      },
      [CAP_METRIC]: 1,
    }));
    throw new Stop('capped', 'the platform is at its tenant cap');
  }

  /**
   * The tenant's gateway token secret. Returns its description when it already existed (undefined when created
   * now). An existing secret is adopted only when its tags say it is this tenant's self-service token; one scheduled
   * for deletion is restored; one whose current value predates this user's claim belongs to an earlier holder of
   * the name and gets a fresh value, so nobody else ever knows this tenant's token.
   */
  private async ensureGatewayToken(name: string, namespace: string, claimedAt: Date): Promise<DescribeSecretCommandOutput | undefined> {
    const secrets = this.deps.secrets;
    const newToken = this.deps.newToken ?? randomGatewayToken;
    let existing: unknown;
    try {
      await secrets.send(new CreateSecretCommand({
        Name: name,
        Description: `OpenClaw gateway token of self-service tenant ${this.tenant}`,
        KmsKeyId: this.config.kmsKeyArn,
        SecretString: newToken(),
        Tags: [
          { Key: TAG_TENANT_NAMESPACE, Value: namespace },
          { Key: TAG_BUDGET_USD, Value: String(this.config.tenantDefaults.budgetUsd) },
          { Key: TAG_PROVISIONED_BY, Value: PROVISIONED_BY_SELF_SERVICE },
        ],
      }));
      return undefined;
    } catch (error) {
      // A name scheduled for deletion answers InvalidRequestException rather than ResourceExistsException.
      if (errorName(error) !== 'ResourceExistsException' && errorName(error) !== 'InvalidRequestException') throw error;
      existing = error;
    }
    let described: DescribeSecretCommandOutput;
    try {
      described = await secrets.send(new DescribeSecretCommand({ SecretId: name }));
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') throw existing;
      throw error;
    }
    if (errorName(existing) === 'InvalidRequestException' && !described.DeletedDate) throw existing;
    if (!isSelfServiceToken(described.Tags, namespace)) {
      throw new Error(`the secret ${name} exists but is not the self-service gateway token of namespace ${namespace} `
        + `(its tags: ${TAG_TENANT_NAMESPACE}=${tagValue(described.Tags, TAG_TENANT_NAMESPACE) ?? '(none)'}, `
        + `${TAG_PROVISIONED_BY}=${tagValue(described.Tags, TAG_PROVISIONED_BY) ?? '(none)'}); refusing to adopt it`);
    }
    if (described.DeletedDate) {
      await secrets.send(new RestoreSecretCommand({ SecretId: name }));
      this.log('warn', 'restored a gateway token secret that was scheduled for deletion', { tenant: this.tenant, secret: name });
    }
    const versions = await secrets.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    const current = versions.Versions?.find((v) => v.VersionStages?.includes('AWSCURRENT'));
    if (!current?.CreatedDate || new Date(current.CreatedDate).getTime() < claimedAt.getTime()) {
      await secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: newToken() }));
      this.log('warn', 'the gateway token predates this user\'s claim of the tenant name: replaced it', { tenant: this.tenant, secret: name });
    }
    return described;
  }

  /** The secret's scheduled rotation by the rotation function (left alone when already so). */
  private async ensureRotation(name: string, described: DescribeSecretCommandOutput | undefined, rotation: { functionArn: string; days: number }) {
    const expression = rotationSchedule(rotation.days);
    const rules = described?.RotationRules;
    const same = described?.RotationEnabled === true
      && described.RotationLambdaARN === rotation.functionArn
      && (rules?.ScheduleExpression === expression || (rules?.ScheduleExpression === undefined && rules?.AutomaticallyAfterDays === rotation.days));
    if (!same) {
      await this.deps.secrets.send(new RotateSecretCommand({
        SecretId: name,
        RotationLambdaARN: rotation.functionArn,
        RotationRules: { ScheduleExpression: expression },
        RotateImmediately: false,
      }));
    }
  }

  /** The Pod Identity association of the tenant's service account with the tenant role (an existing one must match). */
  private async ensurePodIdentity(namespace: string, serviceAccount: string): Promise<void> {
    const { clusterName, tenantRoleArn } = this.config;
    try {
      await this.deps.eks.send(new CreatePodIdentityAssociationCommand({ clusterName, namespace, serviceAccount, roleArn: tenantRoleArn }));
      return;
    } catch (error) {
      if (errorName(error) !== 'ResourceInUseException') throw error;
    }
    const listed = await this.deps.eks.send(new ListPodIdentityAssociationsCommand({ clusterName, namespace, serviceAccount }));
    const found = listed.associations?.find((a) => a.namespace === namespace && a.serviceAccount === serviceAccount);
    if (!found?.associationId) throw new Error(`EKS reports a Pod Identity association for ${namespace}/${serviceAccount} but does not list it`);
    const got = await this.deps.eks.send(new DescribePodIdentityAssociationCommand({ clusterName, associationId: found.associationId }));
    const roleArn = got.association?.roleArn;
    if (roleArn !== tenantRoleArn) {
      throw new Error(`the Pod Identity association ${found.associationId} of ${namespace}/${serviceAccount} uses role ${roleArn ?? '(none)'}, `
        + `not the tenant role ${tenantRoleArn}; refusing to adopt it`);
    }
  }

  /** Records the steps done so far; stops when the record is no longer this tenant's PROVISIONING record. */
  private async recordStep(step: ProvisionStep): Promise<void> {
    this.steps.push(step);
    await this.update('SET #steps = :steps, #updatedAt = :now');
  }

  private async markActive(): Promise<void> {
    await this.update('SET #status = :active, #steps = :steps, #updatedAt = :now REMOVE #message', { '#message': 'message' }, { ':active': S('ACTIVE') });
    this.log('info', 'tenant provisioned', { username: this.username, tenant: this.tenant, steps: this.steps });
  }

  private async update(expression: string, names: Record<string, string> = {}, values: Record<string, AttributeValue> = {}): Promise<void> {
    try {
      await this.deps.dynamodb.send(new UpdateItemCommand({
        TableName: this.config.tenantTable,
        Key: tableKey(userKey(this.username)),
        UpdateExpression: expression,
        ConditionExpression: '#status = :provisioning AND #tenant = :tenant',
        ExpressionAttributeNames: { '#status': 'status', '#tenant': 'tenant', '#steps': 'steps', '#updatedAt': 'updatedAt', ...names },
        ExpressionAttributeValues: {
          ':provisioning': S('PROVISIONING'),
          ':tenant': S(this.tenant),
          ':steps': L(this.steps),
          ':now': S(this.now().toISOString()),
          ...values,
        },
      }));
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') throw new Stop('left-alone', 'the record is no longer this tenant\'s PROVISIONING record');
      throw error;
    }
  }
}
