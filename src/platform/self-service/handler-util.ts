/**
 * What the self-service handlers share: the JSON log line, an error's fields for it, settings from the environment,
 * the tenants table's key and `USER#` record (the tenant's gateway Deployment is in gateway-deployment.ts, which the
 * handlers without a cluster client need not bundle). Handler-only (each handler bundles it; the construct never
 * loads it) and free of @aws-sdk imports: the DynamoDB shapes below are the part of the SDK's `AttributeValue` the
 * records use.
 * @internal
 */
import { TENANT_TABLE_KEY, TenantRecord, TenantStatus } from './contract';

// ---------------------------------------------------------------------------------------------------------------
// logging

/** A structured log line's level. @internal */
export type LogLevel = 'info' | 'warn' | 'error';
/** Writes one structured log line. Never given a token or an e-mail address. @internal */
export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/** One JSON line on stdout (info) or stderr (warn, error). @internal */
export const jsonLogger: Logger = (level, message, fields = {}) => {
  const line = JSON.stringify({ level, message, ...fields });
  if (level === 'info') console.log(line);
  else console.error(line);
};

/** An error's name (SDK errors are told apart by it); `'Error'` when it has none. @internal */
export function errorName(error: unknown): string {
  return String((error as { name?: unknown } | undefined)?.name ?? 'Error');
}

/**
 * An error's name and message, for a log line (SDK and cluster errors carry no secret values). Without a message,
 * `noMessage` when given, else the thrown value itself.
 * @internal
 */
export function errorFields(error: unknown, noMessage?: string): { name: string; message: string } {
  return { name: errorName(error), message: String((error as { message?: unknown } | undefined)?.message ?? noMessage ?? error) };
}

// ---------------------------------------------------------------------------------------------------------------
// the environment

/** A handler's environment. @internal */
export type Env = Record<string, string | undefined>;

/** The variable's value; throws `missing(name)` when it is unset or empty. @internal */
export function requireEnv(env: Env, name: string, missing: (name: string) => Error): string {
  const value = env[name];
  if (!value) throw missing(name);
  return value;
}

/**
 * A whole-number setting: `fallback` when the variable is unset or empty; otherwise its `Number` value, which must
 * be an integer from `min` to `max`. Throws `makeError(raw)` with the variable's value (unset or empty included when
 * there is no fallback), so each handler keeps its own message.
 * @internal
 */
export function envInt(
  env: Env,
  name: string,
  range: { readonly min: number; readonly max?: number; readonly fallback?: number },
  makeError: (raw: string | undefined) => Error,
): number {
  const raw = env[name];
  if (!raw) {
    if (range.fallback !== undefined) return range.fallback;
    throw makeError(raw);
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < range.min || (range.max !== undefined && value > range.max)) throw makeError(raw);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// the tenants table

/** A DynamoDB attribute value, as far as the tenants table uses it (an `AttributeValue` of the SDK is one). @internal */
export interface ItemValue {
  readonly S?: string;
  readonly N?: string;
  readonly L?: readonly ItemValue[];
}

/** A DynamoDB item, as far as the tenants table uses it. @internal */
export type Item = Record<string, ItemValue>;

/** The key of an item of the tenants table: `{ pk: { S: pk } }`. @internal */
export function tableKey(pk: string) {
  return { [TENANT_TABLE_KEY]: { S: pk } };
}

/**
 * A `USER#` record as stored: the {@link TenantRecord} fields, when the provisioner claimed its tenant name and when
 * deprovisioning first saw its gateway stopped.
 * @internal
 */
export interface StoredTenantRecord extends TenantRecord {
  readonly claimedAt?: string;
  readonly stoppedAt?: string;
}

/** The fields of a `USER#` record, from a DynamoDB item (undefined for no item). @internal */
export function tenantRecordFromItem(item: Item): StoredTenantRecord;
export function tenantRecordFromItem(item: Item | undefined): StoredTenantRecord | undefined;
export function tenantRecordFromItem(item: Item | undefined): StoredTenantRecord | undefined {
  if (!item) return undefined;
  const s = (name: string) => item[name]?.S;
  return {
    pk: s(TENANT_TABLE_KEY) ?? '',
    username: s('username') ?? '',
    email: s('email') ?? '',
    tenant: s('tenant') ?? '',
    status: s('status') as TenantStatus,
    steps: item.steps?.L?.map((v) => v.S ?? ''),
    createdAt: s('createdAt') ?? '',
    updatedAt: s('updatedAt') ?? '',
    claimedAt: s('claimedAt'),
    exportKey: s('exportKey'),
    message: s('message'),
    stoppedAt: s('stoppedAt'),
  };
}
