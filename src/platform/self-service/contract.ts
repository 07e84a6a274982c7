/**
 * What the self-service handlers, the construct that deploys them and the auth UI agree on: table keys, record
 * states, message shapes, environment variable names and the session API. CDK-free (the handlers bundle it).
 * @internal
 */
import { TAG_TENANT_NAMESPACE } from '../tenant-spec';

/** The tenants table (partition key `pk`, a string). */
export const TENANT_TABLE_KEY = 'pk';
/** The sign-up counters table (partition key `pk`, a string; TTL attribute `expiresAt`). */
export const COUNTER_TABLE_KEY = 'pk';
export const COUNTER_TTL_ATTRIBUTE = 'expiresAt';

/** The record of a Cognito user's tenant: `USER#<username>` (the pool's usernames are the users' `sub`). */
export const userKey = (username: string) => `USER#${username}`;
/** The claim of a tenant name, so two users never get the same one: `TENANT#<tenant>` → `{ username }`. */
export const tenantKey = (tenant: string) => `TENANT#${tenant}`;
/** The number of tenants that count against the cap (provisioning, active, deprovisioning): `{ count }`. */
export const TENANT_COUNT_KEY = 'META#tenant-count';
/** A sign-up counter: one item per e-mail domain per UTC hour, `SIGNUP#<domain>#<yyyy-mm-ddThh>` → `{ count, expiresAt }`. */
export const signUpCounterKey = (domain: string, hour: string) => `SIGNUP#${domain}#${hour}`;

/**
 * A user's tenant record states. PROVISIONING → ACTIVE; CAPPED when the platform was full (re-queued by an
 * administrator later); ACTIVE → DEPROVISIONING → EXPORTED → REMOVED on the deprovisioning path.
 */
export type TenantStatus = 'PROVISIONING' | 'ACTIVE' | 'CAPPED' | 'DEPROVISIONING' | 'EXPORTED' | 'REMOVED';

/** Fields of a `USER#` record. */
export interface TenantRecord {
  readonly pk: string;
  readonly username: string;
  readonly email: string;
  readonly tenant: string;
  readonly status: TenantStatus;
  /** Provisioning steps done so far (names of `ProvisionStep`), for retries and for operators. */
  readonly steps?: string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The S3 key of the export of the tenant's files (set once verified). */
  readonly exportKey?: string;
  readonly message?: string;
}

/** The provisioning queue's message: the provisioner looks the user up itself, so a message carries no authority. */
export interface ProvisionMessage {
  readonly version: 1;
  readonly userPoolId: string;
  readonly username: string;
}

/** A Cognito user pool ID, `<region>_<id>` (e.g. `eu-west-1_AbC123`). */
export const USER_POOL_ID_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+_[0-9a-zA-Z]+$/;

/** Tags on a self-service tenant's gateway-token secret. */
export { TAG_TENANT_NAMESPACE, TAG_BUDGET_USD } from '../tenant-spec';
export const TAG_PROVISIONED_BY = 'openclaw:provisioned-by';
export const PROVISIONED_BY_SELF_SERVICE = 'self-service';

/** The value of a tag (the first with that key) in a Secrets Manager tag list. */
export function tagValue(tags: readonly { readonly Key?: string; readonly Value?: string }[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

/**
 * True when a secret's tags make it the self-service gateway token of the tenant namespace `namespace`:
 * `TAG_PROVISIONED_BY` = `PROVISIONED_BY_SELF_SERVICE` and `TAG_TENANT_NAMESPACE` = `namespace`.
 */
export function isSelfServiceToken(tags: readonly { readonly Key?: string; readonly Value?: string }[] | undefined, namespace: string): boolean {
  return tagValue(tags, TAG_PROVISIONED_BY) === PROVISIONED_BY_SELF_SERVICE && tagValue(tags, TAG_TENANT_NAMESPACE) === namespace;
}

/** The Kubernetes group of the provisioning Lambda functions' access entries, bound to the narrow ClusterRole. */
export const PROVISIONER_GROUP = 'openclaw:provisioners';
/** The field manager of every server-side apply by the self-service handlers. */
export const FIELD_MANAGER = 'openclaw-self-service';
/** The pod-template annotation the token rotation sets to restart a tenant's gateway with the new token. */
export const TOKEN_VERSION_ANNOTATION = 'openclaw.ai/gateway-token-version';
/** The field managers of the token rotation (the restart annotation) and of deprovisioning (replicas 0). */
export const ROTATION_FIELD_MANAGER = 'openclaw-token-rotation';
export const DEPROVISION_FIELD_MANAGER = 'openclaw-deprovision';

/**
 * The session API: the auth UI calls `GET <SESSION_PATH>` with the Cognito access token in this header for the
 * tenant's state and gateway token, and `DELETE <SESSION_PATH>` ("sign out everywhere") to rotate the gateway
 * token, which restarts the gateway so every open gateway session ends (data stays on EFS). Answers are JSON with
 * `Cache-Control: no-store`; the DELETE answers 202 `{ status: 'ROTATING' }`.
 */
export const SESSION_PATH = '/api/session';
export const ACCESS_TOKEN_HEADER = 'x-openclaw-access-token';
/** The auth UI's path on the edge and its runtime configuration file. */
export const AUTH_PATH = '/auth/';
export const UI_CONFIG_FILE = 'config.json';

/** The session API's answers (JSON bodies, `Cache-Control: no-store`). */
export type SessionResponse =
  | { readonly status: 'ACTIVE'; readonly tenant: string; readonly path: string; readonly gatewayToken: string } // 200
  | { readonly status: 'PROVISIONING'; readonly retryAfterSeconds: number } // 202
  | { readonly status: 'CAPPED' | 'REMOVED' | 'DEPROVISIONING' | 'EXPORTED'; readonly message: string } // 403
  | { readonly status: 'UNAUTHORIZED'; readonly message: string }; // 401

/** The auth UI's `config.json`. */
export interface UiConfig {
  readonly region: string;
  readonly userPoolId: string;
  readonly clientId: string;
  /** The Cognito user pools JSON endpoint, `https://cognito-idp.<region>.amazonaws.com/` (a local fake in tests). */
  readonly cognitoEndpoint: string;
  readonly sessionPath: string;
  readonly mfa: 'OPTIONAL' | 'REQUIRED';
  readonly selfSignUp: boolean;
  readonly passwordMinLength: number;
}

/** Environment variables of the handlers. */
export const ENV = {
  TENANT_TABLE: 'TENANT_TABLE',
  COUNTER_TABLE: 'COUNTER_TABLE',
  ALLOWED_DOMAINS: 'ALLOWED_DOMAINS', // comma-separated, lower case; empty = no self sign-up
  SIGNUPS_PER_DOMAIN_PER_HOUR: 'SIGNUPS_PER_DOMAIN_PER_HOUR',
  MAX_TENANTS: 'MAX_TENANTS',
  QUEUE_URL: 'QUEUE_URL',
  CLUSTER_NAME: 'CLUSTER_NAME',
  CLUSTER_ENDPOINT: 'CLUSTER_ENDPOINT',
  CLUSTER_CA: 'CLUSTER_CA', // base64 PEM, as EKS returns it
  TENANT_ROLE_ARN: 'TENANT_ROLE_ARN',
  KMS_KEY_ARN: 'KMS_KEY_ARN',
  PLATFORM_SPEC: 'PLATFORM_SPEC', // JSON of PlatformSpec
  TENANT_DEFAULTS: 'TENANT_DEFAULTS', // JSON of { cpu, memory, pods, budgetUsd }
  ROTATION_FUNCTION_ARN: 'ROTATION_FUNCTION_ARN',
  ROTATION_DAYS: 'ROTATION_DAYS', // '' = no scheduled rotation
  EXPORT_BUCKET: 'EXPORT_BUCKET',
  EXPORT_MOUNT: 'EXPORT_MOUNT', // where the tenants' EFS directory is mounted in the export function
  SECRET_RECOVERY_DAYS: 'SECRET_RECOVERY_DAYS',
  USER_POOL_ID: 'USER_POOL_ID', // only where no cycle arises (not in the Cognito triggers)
} as const;

/** A Kubernetes object reference. */
export interface KubeRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** Absent for cluster-scoped kinds (Namespace). */
  readonly namespace?: string;
}

/**
 * What the handlers need of the cluster API (kube-client.ts implements it over HTTPS with an EKS token; tests use a
 * fake). Every call throws a `KubeError` on failure.
 */
export interface Kube {
  /**
   * Server-side apply (force; field manager FIELD_MANAGER unless another is given, e.g. the token rotation's own so
   * a later re-apply of the tenant never removes its annotation): creates or updates; idempotent.
   */
  apply(object: any, options?: { readonly fieldManager?: string }): Promise<void>;
  /** The object, or undefined when it does not exist. */
  get(ref: KubeRef): Promise<any | undefined>;
  /** Deletes (background propagation); false when it did not exist. */
  delete(ref: KubeRef): Promise<boolean>;
}

/** A failed cluster API call: the HTTP status and the API's reason, never a token or a body with secrets. */
export class KubeError extends Error {
  constructor(public readonly status: number, public readonly reason: string, message: string) {
    super(message);
    this.name = 'KubeError';
  }
  /** 429 and 5xx are worth retrying. */
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

/** The CloudWatch namespace of the self-service metrics. @internal */
export const METRIC_NAMESPACE = 'OpenClaw/SelfService';
/** The metric counting users turned away because the platform was at its tenant cap (Embedded Metric Format). @internal */
export const CAP_METRIC = 'TenantsRejectedAtCap';
