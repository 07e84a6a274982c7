/**
 * Deprovisioning a self-service tenant, one idempotent step per call (the state machine retries each):
 * - `begin`: the record goes DEPROVISIONING, the Cognito user is disabled and signed out everywhere;
 * - `stop`: the gateway is scaled to zero and confirmed stopped (`GatewayStillRunning` until it is);
 * - (the export function archives the tenant's directory)
 * - `verify`: the stored archive is read back and hashed; only a match with its manifest makes the record EXPORTED;
 * - `remove`: refuses unless the record is EXPORTED with an export object that exists; then deletes the namespace
 *   (the volume's directory and access point stay: the PV is Retain), the pod identity associations and (with a
 *   recovery window) the gateway-token secret, and marks the record REMOVED while taking it off the tenant count,
 *   in one transaction.
 * Nothing is deleted before the tenant's data was exported and the export verified. CDK-free.
 * @internal
 */
/* eslint-disable import/no-extraneous-dependencies -- the Lambda runtime provides @aws-sdk/* (bundled as external) */
import { createHash } from 'node:crypto';
import {
  AdminDisableUserCommand, AdminUserGlobalSignOutCommand, CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  DynamoDBClient, GetItemCommand, TransactWriteItemsCommand, UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeletePodIdentityAssociationCommand, EKSClient, ListPodIdentityAssociationsCommand } from '@aws-sdk/client-eks';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteSecretCommand, DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
/* eslint-enable import/no-extraneous-dependencies */
import {
  DEPROVISION_FIELD_MANAGER, ENV, Kube, KubeError, PROVISIONED_BY_SELF_SERVICE, TAG_PROVISIONED_BY,
  TAG_TENANT_NAMESPACE, TENANT_COUNT_KEY, TenantStatus, isSelfServiceToken, tenantKey, userKey,
} from './contract';
import { ExportManifest, ExportResult, exportPrefix, manifestKeyOf } from './export';
import { gatewayDeploymentPatch, gatewayDeploymentRef } from './gateway-deployment';
import { StoredTenantRecord, envInt, tableKey, tenantRecordFromItem } from './handler-util';
import { gatewayTokenSecretName, isTenantName, tenantNamespace } from '../tenant-spec';

/** The steps, in the order the state machine runs them. @internal */
export type DeprovisionStep = 'begin' | 'stop' | 'verify' | 'remove';

/** The function's input. `export` is the export function's output (for `verify`). @internal */
export interface DeprovisionEvent {
  readonly step: DeprovisionStep;
  readonly tenant: string;
  readonly export?: Partial<ExportResult>;
}

/** What each step returns. @internal */
export type DeprovisionResult =
  | { readonly step: 'begin'; readonly tenant: string; readonly username: string; readonly status: TenantStatus }
  | { readonly step: 'stop'; readonly tenant: string; readonly deployment: 'stopped' | 'absent'; readonly stoppedAt: string }
  | { readonly step: 'verify'; readonly tenant: string; readonly status: 'EXPORTED'; readonly exportKey: string; readonly sha256: string; readonly bytes: number }
  | {
    readonly step: 'remove';
    readonly tenant: string;
    readonly status: 'REMOVED';
    readonly exportKey: string;
    /** True when an earlier attempt had finished: nothing was done. */
    readonly alreadyRemoved: boolean;
    readonly namespaceDeleted?: boolean;
    readonly associationsDeleted?: number;
    readonly secret?: 'scheduled' | 'already-scheduled' | 'absent';
  };

/**
 * The errors the state machine tells apart (by name):
 * - `GatewayStillRunning`: retry `stop` with backoff;
 * - `ExportMismatch`, `ExportBeforeStop`: the export is unusable; export again, then `verify` again;
 * - `ExportNotVerified`: `remove` refused, nothing was deleted;
 * - `TenantNotFound`, `InvalidState`, `InvalidInput`, `NotSelfService`, `Misconfigured`: do not retry.
 * Anything else (AWS throttling, a retryable `KubeError`) is worth a retry.
 * @internal
 */
export type DeprovisionErrorName =
  | 'GatewayStillRunning' | 'ExportMismatch' | 'ExportBeforeStop' | 'ExportNotVerified' | 'TenantNotFound'
  | 'InvalidState' | 'InvalidInput' | 'NotSelfService' | 'Misconfigured';

/** A named deprovisioning failure (Lambda reports the name as the error type). @internal */
export class DeprovisionError extends Error {
  constructor(name: DeprovisionErrorName, message: string) {
    super(message);
    this.name = name;
  }
}

/** The handler's settings, from its environment. @internal */
export interface DeprovisionConfig {
  readonly tableName?: string;
  readonly userPoolId?: string;
  readonly exportBucket?: string;
  readonly clusterName?: string;
  /** Days the deleted gateway-token secret can still be restored (7 to 30). */
  readonly secretRecoveryDays: number;
}

/** The default recovery window of a deleted gateway-token secret. @internal */
export const DEFAULT_SECRET_RECOVERY_DAYS = 30;

/** Reads TENANT_TABLE, USER_POOL_ID, EXPORT_BUCKET, CLUSTER_NAME and SECRET_RECOVERY_DAYS. @internal */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): DeprovisionConfig {
  const days = envInt(env, ENV.SECRET_RECOVERY_DAYS, { min: 7, max: 30, fallback: DEFAULT_SECRET_RECOVERY_DAYS },
    (raw) => new DeprovisionError('Misconfigured', `${ENV.SECRET_RECOVERY_DAYS} must be a whole number of days from 7 to 30, got "${raw}"`));
  return {
    tableName: env[ENV.TENANT_TABLE] || undefined,
    userPoolId: env[ENV.USER_POOL_ID] || undefined,
    exportBucket: env[ENV.EXPORT_BUCKET] || undefined,
    clusterName: env[ENV.CLUSTER_NAME] || undefined,
    secretRecoveryDays: days,
  };
}

/** The AWS clients of the steps. @internal */
export interface DeprovisionClients {
  readonly dynamodb: DynamoDBClient;
  readonly cognito: CognitoIdentityProviderClient;
  readonly s3: S3Client;
  readonly eks: EKSClient;
  readonly secrets: SecretsManagerClient;
}

/** What the steps need: clients, the cluster (created only by the steps that use it), settings and a clock. @internal */
export interface DeprovisionDeps extends DeprovisionClients {
  readonly kube: () => Kube | Promise<Kube>;
  readonly config: DeprovisionConfig;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** Clients with the runtime's default configuration. @internal */
export function defaultClients(): DeprovisionClients {
  return {
    dynamodb: new DynamoDBClient({}),
    cognito: new CognitoIdentityProviderClient({}),
    s3: new S3Client({}),
    eks: new EKSClient({}),
    secrets: new SecretsManagerClient({}),
  };
}

/** Runs one step. @internal */
export async function deprovision(event: DeprovisionEvent, deps: DeprovisionDeps): Promise<DeprovisionResult> {
  const tenant = event?.tenant;
  if (!isTenantName(tenant)) throw new DeprovisionError('InvalidInput', `"${tenant}" is not a tenant name`);
  switch (event.step) {
    case 'begin': return begin(tenant, deps);
    case 'stop': return stop(tenant, deps);
    case 'verify': return verify(tenant, event.export, deps);
    case 'remove': return remove(tenant, deps);
    default: throw new DeprovisionError('InvalidInput', `unknown step "${(event as { step?: unknown }).step}"; the steps are begin, stop, verify, remove`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// begin

async function begin(tenant: string, d: DeprovisionDeps): Promise<DeprovisionResult> {
  const userPoolId = need(d.config.userPoolId, ENV.USER_POOL_ID);
  let record = await mustLoad(tenant, d);
  for (let attempt = 0; record.status === 'ACTIVE' || record.status === 'CAPPED'; attempt++) {
    try {
      await markDeprovisioning(record, d);
    } catch (error) {
      if (!conditionFailed(error) || attempt >= 2) throw error;
    }
    record = await mustLoad(tenant, d); // changed meanwhile (or done): look again
  }
  if (record.status !== 'DEPROVISIONING' && record.status !== 'EXPORTED') {
    throw new DeprovisionError('InvalidState', `tenant ${tenant} is ${record.status}: deprovisioning starts from ACTIVE or CAPPED`);
  }
  // Both calls are idempotent; a user already deleted from the pool cannot sign in anyway.
  await unlessUserNotFound(d.cognito.send(new AdminDisableUserCommand({ UserPoolId: userPoolId, Username: record.username })));
  await unlessUserNotFound(d.cognito.send(new AdminUserGlobalSignOutCommand({ UserPoolId: userPoolId, Username: record.username })));
  return { step: 'begin', tenant, username: record.username, status: record.status };
}

/**
 * ACTIVE → DEPROVISIONING. CAPPED → DEPROVISIONING also counts the tenant (a deprovisioning tenant counts against
 * the cap, a capped one does not), in the same transaction, so `remove` always takes exactly one off the count.
 */
async function markDeprovisioning(record: LoadedRecord, d: DeprovisionDeps): Promise<void> {
  const table = need(d.config.tableName, ENV.TENANT_TABLE);
  const update = {
    TableName: table,
    Key: tableKey(userKey(record.username)),
    UpdateExpression: 'SET #status = :to, #updatedAt = :now REMOVE #stoppedAt',
    ConditionExpression: '#status = :from',
    ExpressionAttributeNames: { '#status': 'status', '#updatedAt': 'updatedAt', '#stoppedAt': 'stoppedAt' },
    ExpressionAttributeValues: { ':to': { S: 'DEPROVISIONING' }, ':from': { S: record.status }, ':now': { S: now(d) } },
  };
  if (record.status === 'ACTIVE') {
    await d.dynamodb.send(new UpdateItemCommand(update));
    return;
  }
  await d.dynamodb.send(new TransactWriteItemsCommand({
    TransactItems: [
      { Update: update },
      { Update: countUpdate(table, 1) },
    ],
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// stop

function running(deployment: any): boolean {
  const status = deployment.status ?? {};
  const generation = deployment.metadata?.generation;
  const observed = status.observedGeneration === undefined || generation === undefined || status.observedGeneration >= generation;
  return deployment.spec?.replicas !== 0 || !observed || (status.replicas ?? 0) > 0 || (status.terminatingReplicas ?? 0) > 0;
}

async function stop(tenant: string, d: DeprovisionDeps): Promise<DeprovisionResult> {
  const record = await mustLoad(tenant, d);
  if (record.status === 'REMOVED') return { step: 'stop', tenant, deployment: 'absent', stoppedAt: record.stoppedAt ?? record.updatedAt };
  if (record.status !== 'DEPROVISIONING' && record.status !== 'EXPORTED') {
    throw new DeprovisionError('InvalidState', `tenant ${tenant} is ${record.status}: run the begin step first`);
  }
  const kube = await d.kube();
  const ref = gatewayDeploymentRef(tenant);
  let stoppedAt = record.stoppedAt;
  let deployment = await kube.get(ref);
  if (deployment) {
    if (running(deployment) && (stoppedAt || record.status === 'EXPORTED')) {
      // The gateway runs again after it was seen stopped: an export taken before now may miss what it wrote since.
      await forgetStop(record, d);
      stoppedAt = undefined;
    }
    try {
      await kube.apply(gatewayDeploymentPatch(tenant, { replicas: 0 }), { fieldManager: DEPROVISION_FIELD_MANAGER });
    } catch (error) {
      // Deleted meanwhile (the partial object cannot create it): stopped too. Anything else is a failure.
      if (!(error instanceof KubeError) || (await kube.get(ref)) !== undefined) throw error;
    }
    deployment = await kube.get(ref);
  }
  if (deployment && running(deployment)) {
    const status = deployment.status ?? {};
    throw new DeprovisionError('GatewayStillRunning',
      `the gateway of tenant ${tenant} still runs (${status.replicas ?? '?'} pod(s), ${status.terminatingReplicas ?? 0} terminating); retry later`);
  }
  // Remember when the gateway was seen stopped: `verify` accepts only an export taken after that.
  if (!stoppedAt) {
    stoppedAt = now(d);
    await d.dynamodb.send(new UpdateItemCommand({
      TableName: need(d.config.tableName, ENV.TENANT_TABLE),
      Key: tableKey(userKey(record.username)),
      UpdateExpression: 'SET #stoppedAt = if_not_exists(#stoppedAt, :now), #updatedAt = :now',
      ConditionExpression: '#status IN (:deprovisioning, :exported)',
      ExpressionAttributeNames: { '#status': 'status', '#stoppedAt': 'stoppedAt', '#updatedAt': 'updatedAt' },
      ExpressionAttributeValues: { ':now': { S: stoppedAt }, ':deprovisioning': { S: 'DEPROVISIONING' }, ':exported': { S: 'EXPORTED' } },
    }));
  }
  return { step: 'stop', tenant, deployment: deployment ? 'stopped' : 'absent', stoppedAt };
}

/** Back to DEPROVISIONING without a stop time: the export must be taken (and verified) again. */
async function forgetStop(record: LoadedRecord, d: DeprovisionDeps): Promise<void> {
  await d.dynamodb.send(new UpdateItemCommand({
    TableName: need(d.config.tableName, ENV.TENANT_TABLE),
    Key: tableKey(userKey(record.username)),
    UpdateExpression: 'SET #status = :deprovisioning, #updatedAt = :now REMOVE #stoppedAt',
    ConditionExpression: '#status IN (:deprovisioning, :exported)',
    ExpressionAttributeNames: { '#status': 'status', '#stoppedAt': 'stoppedAt', '#updatedAt': 'updatedAt' },
    ExpressionAttributeValues: { ':now': { S: now(d) }, ':deprovisioning': { S: 'DEPROVISIONING' }, ':exported': { S: 'EXPORTED' } },
  }));
}

/** True when the tenant's gateway runs (or may): it exists and is not confirmed scaled to zero. */
async function gatewayRuns(tenant: string, d: DeprovisionDeps): Promise<boolean> {
  const deployment = await (await d.kube()).get(gatewayDeploymentRef(tenant));
  return deployment !== undefined && running(deployment);
}

// ---------------------------------------------------------------------------------------------------------------
// verify

async function verify(tenant: string, input: Partial<ExportResult> | undefined, d: DeprovisionDeps): Promise<DeprovisionResult> {
  const bucket = need(d.config.exportBucket, ENV.EXPORT_BUCKET);
  const exportKey = input?.exportKey;
  if (typeof exportKey !== 'string' || !isExportKeyOf(tenant, exportKey)) {
    throw new DeprovisionError('InvalidInput', `verify needs export.exportKey, an archive under ${exportPrefix(tenant)}; got ${JSON.stringify(exportKey)}`);
  }
  const manifestKey = manifestKeyOf(exportKey);
  if (input?.manifestKey !== undefined && input.manifestKey !== manifestKey) {
    throw new DeprovisionError('InvalidInput', `the manifest of ${exportKey} is ${manifestKey}, not ${input.manifestKey}`);
  }
  const record = await mustLoad(tenant, d);
  if (record.status !== 'DEPROVISIONING' && record.status !== 'EXPORTED') {
    throw new DeprovisionError('InvalidState', `tenant ${tenant} is ${record.status}: only a deprovisioning tenant's export is verified`);
  }
  if (!record.stoppedAt) {
    throw new DeprovisionError('ExportBeforeStop', `the gateway of tenant ${tenant} was never confirmed stopped: run stop, then export again`);
  }

  if (await gatewayRuns(tenant, d)) {
    throw new DeprovisionError('ExportBeforeStop', `the gateway of tenant ${tenant} runs again: run stop, then export again`);
  }

  const manifest = await readManifest(d.s3, bucket, manifestKey, tenant);
  if (Date.parse(manifest.createdAt) < Date.parse(record.stoppedAt)) {
    throw new DeprovisionError('ExportBeforeStop',
      `${exportKey} was taken at ${manifest.createdAt}, before the gateway stopped at ${record.stoppedAt}: export again`);
  }
  if ((input?.sha256 !== undefined && input.sha256 !== manifest.sha256) || (input?.bytes !== undefined && input.bytes !== manifest.bytes)) {
    throw new DeprovisionError('ExportMismatch', `the export function's result for ${exportKey} does not match its manifest`);
  }

  const stored = await hashObject(d.s3, bucket, exportKey);
  if (stored.bytes !== manifest.bytes || stored.sha256 !== manifest.sha256) {
    throw new DeprovisionError('ExportMismatch',
      `${exportKey} is not the archive its manifest describes: ${stored.bytes} bytes with SHA-256 ${stored.sha256}, expected ${manifest.bytes} bytes with ${manifest.sha256}`);
  }

  try {
    await d.dynamodb.send(new UpdateItemCommand({
      TableName: need(d.config.tableName, ENV.TENANT_TABLE),
      Key: tableKey(userKey(record.username)),
      UpdateExpression: 'SET #status = :exported, #exportKey = :key, #updatedAt = :now',
      ConditionExpression: '#status IN (:deprovisioning, :exported)',
      ExpressionAttributeNames: { '#status': 'status', '#exportKey': 'exportKey', '#updatedAt': 'updatedAt' },
      ExpressionAttributeValues: {
        ':exported': { S: 'EXPORTED' }, ':deprovisioning': { S: 'DEPROVISIONING' }, ':key': { S: exportKey }, ':now': { S: now(d) },
      },
    }));
  } catch (error) {
    if (conditionFailed(error)) throw new DeprovisionError('InvalidState', `tenant ${tenant} left the deprovisioning states while its export was verified`);
    throw error;
  }
  return { step: 'verify', tenant, status: 'EXPORTED', exportKey, sha256: manifest.sha256, bytes: manifest.bytes };
}

async function readManifest(s3: S3Client, bucket: string, manifestKey: string, tenant: string): Promise<ExportManifest> {
  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: manifestKey }));
    const chunks: Buffer[] = [];
    for await (const chunk of object.Body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
    text = Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    if (missing(error)) throw new DeprovisionError('ExportMismatch', `the manifest ${manifestKey} does not exist: export again`);
    throw error;
  }
  let manifest: ExportManifest;
  try {
    manifest = JSON.parse(text);
  } catch {
    throw new DeprovisionError('ExportMismatch', `the manifest ${manifestKey} is not JSON`);
  }
  if (manifest?.tenant !== tenant || typeof manifest.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(manifest.sha256)
    || !Number.isSafeInteger(manifest.bytes) || manifest.bytes < 0 || Number.isNaN(Date.parse(manifest.createdAt))) {
    throw new DeprovisionError('ExportMismatch', `the manifest ${manifestKey} is not a manifest of tenant ${tenant}'s export`);
  }
  return manifest;
}

/** Streams the object through SHA-256 (never held in memory). */
async function hashObject(s3: S3Client, bucket: string, objectKey: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey }));
    for await (const chunk of object.Body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    if (object.ContentLength !== undefined && object.ContentLength !== bytes) {
      throw new DeprovisionError('ExportMismatch', `reading ${objectKey} ended after ${bytes} of ${object.ContentLength} bytes`);
    }
  } catch (error) {
    if (missing(error)) throw new DeprovisionError('ExportMismatch', `the archive ${objectKey} does not exist: export again`);
    throw error;
  }
  return { sha256: hash.digest('hex'), bytes };
}

// ---------------------------------------------------------------------------------------------------------------
// remove

async function remove(tenant: string, d: DeprovisionDeps): Promise<DeprovisionResult> {
  const bucket = need(d.config.exportBucket, ENV.EXPORT_BUCKET);
  const table = need(d.config.tableName, ENV.TENANT_TABLE);
  const clusterName = need(d.config.clusterName, ENV.CLUSTER_NAME);
  const refuse = (why: string) => new DeprovisionError('ExportNotVerified', `refusing to remove tenant ${tenant}: ${why}; nothing was deleted`);

  // The guarantee: nothing is deleted unless the tenant's data was exported, verified, and is still there.
  const record = await load(tenant, d);
  if (!record) throw refuse('there is no record of it');
  if (record.status === 'REMOVED') {
    return { step: 'remove', tenant, status: 'REMOVED', exportKey: record.exportKey ?? '', alreadyRemoved: true };
  }
  if (record.status !== 'EXPORTED') throw refuse(`its status is ${record.status}, not EXPORTED`);
  const exportKey = record.exportKey;
  if (!exportKey) throw refuse('its record has no export key');
  if (!isExportKeyOf(tenant, exportKey)) throw refuse(`its export key ${exportKey} is not one of its exports`);
  try {
    await d.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: exportKey }));
  } catch (error) {
    if (missing(error)) throw refuse(`its export ${exportKey} does not exist`);
    if (httpStatus(error) === 403) throw refuse(`reading ${exportKey} was denied (s3:GetObject, and s3:ListBucket to tell a missing object apart)`);
    throw error;
  }
  if (await gatewayRuns(tenant, d)) throw refuse('its gateway runs again after the export; run stop, export and verify again');

  const namespace = tenantNamespace(tenant);
  const kube = await d.kube();
  // The PV is Retain: the tenant's EFS directory and access point outlive the namespace.
  const namespaceDeleted = await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  const associationsDeleted = await deleteAssociations(d.eks, clusterName, namespace);
  const secret = await deleteSecret(d.secrets, tenant, d.config.secretRecoveryDays);

  try {
    await d.dynamodb.send(new TransactWriteItemsCommand({
      TransactItems: [
        {
          Update: {
            TableName: table,
            Key: tableKey(userKey(record.username)),
            UpdateExpression: 'SET #status = :removed, #updatedAt = :now',
            ConditionExpression: '#status = :exported AND #exportKey = :key',
            ExpressionAttributeNames: { '#status': 'status', '#updatedAt': 'updatedAt', '#exportKey': 'exportKey' },
            ExpressionAttributeValues: { ':removed': { S: 'REMOVED' }, ':exported': { S: 'EXPORTED' }, ':key': { S: exportKey }, ':now': { S: now(d) } },
          },
        },
        { Update: countUpdate(table, -1) },
      ],
    }));
  } catch (error) {
    if (!conditionFailed(error)) throw error;
    const again = await load(tenant, d);
    // A concurrent attempt finished first: the count was taken down by that one.
    if (again?.status === 'REMOVED') return { step: 'remove', tenant, status: 'REMOVED', exportKey, alreadyRemoved: true };
    throw new DeprovisionError('InvalidState', `tenant ${tenant} changed to ${again?.status ?? 'nothing'} while it was removed`);
  }
  return { step: 'remove', tenant, status: 'REMOVED', exportKey, alreadyRemoved: false, namespaceDeleted, associationsDeleted, secret };
}

async function deleteAssociations(eks: EKSClient, clusterName: string, namespace: string): Promise<number> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName, namespace, nextToken }));
    for (const association of page.associations ?? []) {
      if (association.namespace === namespace && association.associationId) ids.push(association.associationId);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  let deleted = 0;
  for (const associationId of ids) {
    try {
      await eks.send(new DeletePodIdentityAssociationCommand({ clusterName, associationId }));
      deleted++;
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
  }
  return deleted;
}

/** Schedules the gateway-token secret's deletion with a recovery window (never a forced deletion). */
async function deleteSecret(secrets: SecretsManagerClient, tenant: string, recoveryDays: number): Promise<'scheduled' | 'already-scheduled' | 'absent'> {
  const name = gatewayTokenSecretName(tenant);
  let described;
  try {
    described = await secrets.send(new DescribeSecretCommand({ SecretId: name }));
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return 'absent';
    throw error;
  }
  if (described.DeletedDate) return 'already-scheduled';
  if (!isSelfServiceToken(described.Tags, tenantNamespace(tenant))) {
    throw new DeprovisionError('NotSelfService',
      `the secret ${name} is not tagged ${TAG_PROVISIONED_BY}=${PROVISIONED_BY_SELF_SERVICE} and ${TAG_TENANT_NAMESPACE}=${tenantNamespace(tenant)}: refusing to delete a secret self-service did not create`);
  }
  try {
    await secrets.send(new DeleteSecretCommand({ SecretId: described.ARN ?? name, RecoveryWindowInDays: recoveryDays }));
  } catch (error) {
    // Scheduled meanwhile by a concurrent attempt: Secrets Manager refuses to schedule it twice.
    if ((error as Error).name !== 'InvalidRequestException') throw error;
    const again = await secrets.send(new DescribeSecretCommand({ SecretId: described.ARN ?? name }));
    if (!again.DeletedDate) throw error;
    return 'already-scheduled';
  }
  return 'scheduled';
}

// ---------------------------------------------------------------------------------------------------------------
// the table

/** A tenant's record; `username` is the one its name's claim names, `stoppedAt` when `stop` first saw the gateway stopped. */
type LoadedRecord = StoredTenantRecord;

/** The tenant's record, found through its name's claim; undefined when either is missing. */
async function load(tenant: string, d: DeprovisionDeps): Promise<LoadedRecord | undefined> {
  const table = need(d.config.tableName, ENV.TENANT_TABLE);
  const claim = await d.dynamodb.send(new GetItemCommand({ TableName: table, Key: tableKey(tenantKey(tenant)), ConsistentRead: true }));
  const username = claim.Item?.username?.S;
  if (!username) return undefined;
  const user = await d.dynamodb.send(new GetItemCommand({ TableName: table, Key: tableKey(userKey(username)), ConsistentRead: true }));
  const item = user.Item;
  if (!item) return undefined;
  if (item.tenant?.S !== tenant) {
    throw new DeprovisionError('InvalidState', `the claim of tenant ${tenant} names user ${username}, whose record is of tenant ${item.tenant?.S}`);
  }
  return { ...tenantRecordFromItem(item), username, tenant };
}

async function mustLoad(tenant: string, d: DeprovisionDeps): Promise<LoadedRecord> {
  const record = await load(tenant, d);
  if (!record) throw new DeprovisionError('TenantNotFound', `there is no self-service tenant ${tenant}`);
  return record;
}

function countUpdate(table: string, delta: 1 | -1) {
  return {
    TableName: table,
    Key: tableKey(TENANT_COUNT_KEY),
    UpdateExpression: 'ADD #count :delta',
    ExpressionAttributeNames: { '#count': 'count' },
    ExpressionAttributeValues: { ':delta': { N: String(delta) } },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// helpers

/** True for a failed condition, alone or as the reason a transaction was cancelled. */
function conditionFailed(error: unknown): boolean {
  const e = error as { name?: string; CancellationReasons?: Array<{ Code?: string }> };
  if (e?.name === 'ConditionalCheckFailedException') return true;
  return e?.name === 'TransactionCanceledException' && (e.CancellationReasons ?? []).some(r => r?.Code === 'ConditionalCheckFailed');
}

async function unlessUserNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if ((error as Error).name !== 'UserNotFoundException') throw error;
  }
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** S3's answers for a missing object: `NoSuchKey` (GET) or `NotFound` (HEAD, which has no body). */
function missing(error: unknown): boolean {
  const name = (error as Error)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatus(error) === 404;
}

function isExportKeyOf(tenant: string, exportKey: string): boolean {
  const rest = exportKey.startsWith(exportPrefix(tenant)) ? exportKey.slice(exportPrefix(tenant).length) : '';
  return rest.endsWith('.tar') && rest.length > '.tar'.length && !rest.includes('/');
}

function need(value: string | undefined, name: string): string {
  if (!value) throw new DeprovisionError('Misconfigured', `the deprovisioning function needs the environment variable ${name}`);
  return value;
}

function now(d: DeprovisionDeps): string {
  return (d.now ?? (() => new Date()))().toISOString();
}
