/**
 * Secrets Manager rotation of a self-service tenant's gateway token (`openclaw/<tenant>/gateway-token`), on its
 * schedule or when the user signs out everywhere:
 * - createSecret: a new random token, staged AWSPENDING (once per rotation: a re-run finds it);
 * - setSecret: nothing, the gateway reads its token from the secret when it starts;
 * - testSecret: the pending token has the format every gateway token has;
 * - finishSecret: the pending version becomes AWSCURRENT, then the tenant's gateway restarts: a server-side apply of
 *   the pod template annotation `TOKEN_VERSION_ANNOTATION` = the new version's ID (never the token) under its own
 *   field manager, so a later re-apply of the tenant by the provisioner leaves it in place. The Deployment is
 *   Recreate with its state on EFS: open gateway sessions end, the tenant's data stays.
 *
 * Only secrets named `openclaw/<tenant>/gateway-token` AND tagged `openclaw:provisioned-by=self-service` (with the
 * matching `tenant-namespace`) are rotated; a secret whose rotation is not enabled is refused, as is a version that
 * is not pending. Environment: what the cluster client reads (CLUSTER_ENDPOINT, CLUSTER_CA, CLUSTER_NAME, AWS_REGION).
 */
/* eslint-disable import/no-extraneous-dependencies -- the Lambda runtime provides @aws-sdk/* (bundled as external) */
import {
  DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { tenantNamespace } from '../tenant-spec';
import {
  Kube, PROVISIONED_BY_SELF_SERVICE, ROTATION_FIELD_MANAGER, TAG_PROVISIONED_BY, TAG_TENANT_NAMESPACE, TOKEN_VERSION_ANNOTATION,
  isSelfServiceToken,
} from './contract';
import { gatewayDeploymentPatch, gatewayDeploymentRef } from './gateway-deployment';
import { Logger, jsonLogger } from './handler-util';
import { KubeClient } from './kube-client';
import { GATEWAY_TOKEN_PATTERN, randomGatewayToken, tenantOfSecretName } from './tenant-naming';

/**
 * What Secrets Manager sends the rotation function.
 * @internal
 */
export interface RotationEvent {
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
  readonly SecretId: string;
  readonly ClientRequestToken: string;
}

/**
 * What the rotation function works with; tests pass their own.
 * @internal
 */
export interface RotationDeps {
  readonly secrets: SecretsManagerClient;
  /** The cluster API; called only by finishSecret. */
  readonly kube: () => Kube | Promise<Kube>;
  /** One structured log line (never given a token value). @default a JSON line on stdout or stderr */
  readonly log?: Logger;
  /** @default randomGatewayToken */
  readonly newToken?: () => string;
}

const STEPS = new Set(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
// Secrets Manager's ClientRequestToken: 32 to 64 characters (the SDKs send a UUID).
const VERSION_ID = /^[A-Za-z0-9_-]{32,64}$/;

/**
 * The partial Deployment whose server-side apply restarts a tenant's gateway for a new token version: only the pod
 * template annotation (a changed pod template rolls the Deployment).
 * @internal
 */
export function restartPatch(tenant: string, versionId: string): any {
  return gatewayDeploymentPatch(tenant, { template: { metadata: { annotations: { [TOKEN_VERSION_ANNOTATION]: versionId } } } });
}

/**
 * The rotation handler, over the given clients (the deployed `handler` uses the defaults).
 * @internal
 */
export function createHandler(deps: RotationDeps): (event: RotationEvent) => Promise<void> {
  const log = deps.log ?? jsonLogger;
  const secrets = deps.secrets;

  async function pendingValue(secretId: string, token: string): Promise<string | undefined> {
    try {
      const got = await secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: 'AWSPENDING' }));
      return got.SecretString;
    } catch (error) {
      if ((error as { name?: unknown })?.name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  async function restartGateway(tenant: string, token: string): Promise<void> {
    const kube = await deps.kube();
    if (!(await kube.get(gatewayDeploymentRef(tenant)))) {
      // Not applied yet (or removed): the gateway reads the new token when it is created.
      log('warn', 'no gateway deployment to restart', { tenant, versionId: token });
      return;
    }
    await kube.apply(restartPatch(tenant, token), { fieldManager: ROTATION_FIELD_MANAGER });
    log('info', 'gateway restarted for the new token version', { tenant, versionId: token });
  }

  return async (event) => {
    const { Step: step, SecretId: secretId, ClientRequestToken: token } = event ?? ({} as RotationEvent);
    if (!STEPS.has(step) || typeof secretId !== 'string' || !secretId || typeof token !== 'string' || !VERSION_ID.test(token)) {
      throw new Error('not a Secrets Manager rotation event (Step, SecretId and ClientRequestToken are required)');
    }
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
    const tenant = tenantOfSecretName(described.Name);
    if (!tenant || !isSelfServiceToken(described.Tags, tenantNamespace(tenant))) {
      throw new Error(`refusing to rotate secret ${described.Name ?? secretId}: only self-service gateway tokens (openclaw/<tenant>/gateway-token `
        + `tagged ${TAG_PROVISIONED_BY}=${PROVISIONED_BY_SELF_SERVICE} and ${TAG_TENANT_NAMESPACE}=openclaw-<tenant>) are rotated here`);
    }
    if (described.RotationEnabled !== true) throw new Error(`secret ${described.Name} does not have rotation enabled`);
    const versions = described.VersionIdsToStages ?? {};
    const stages = versions[token];
    if (!stages) throw new Error(`version ${token} is not a version of secret ${described.Name}`);
    if (stages.includes('AWSCURRENT')) {
      // Already current: a re-run of finishSecret still makes sure the gateway runs with this version.
      if (step === 'finishSecret') await restartGateway(tenant, token);
      return;
    }
    if (!stages.includes('AWSPENDING')) throw new Error(`version ${token} of secret ${described.Name} is not pending rotation`);

    switch (step) {
      case 'createSecret': {
        if ((await pendingValue(secretId, token)) !== undefined) return; // made by an earlier attempt
        await secrets.send(new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: token,
          SecretString: (deps.newToken ?? randomGatewayToken)(),
          VersionStages: ['AWSPENDING'],
        }));
        log('info', 'new gateway token staged', { tenant, versionId: token });
        return;
      }
      case 'setSecret':
        return; // nothing holds the token but the secret: the gateway reads it when it starts
      case 'testSecret': {
        const value = await pendingValue(secretId, token);
        if (value === undefined || !GATEWAY_TOKEN_PATTERN.test(value)) {
          throw new Error(`the pending gateway token of secret ${described.Name} is not 48 letters and digits`);
        }
        return;
      }
      case 'finishSecret': {
        const current = Object.entries(versions).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
        await secrets.send(new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          RemoveFromVersionId: current,
        }));
        log('info', 'new gateway token is current', { tenant, versionId: token, previousVersionId: current });
        await restartGateway(tenant, token);
        return;
      }
    }
  };
}

let kube: Kube | undefined;

/** The rotation function's handler. */
export const handler = createHandler({
  secrets: new SecretsManagerClient({}),
  kube: () => (kube ??= KubeClient.fromEnvironment()),
});
