import {
  DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { MemoryKube } from './memory-kube';
import { samplePlatform, sampleTenant } from '../../../oracles/lib/tenant-sample';
import { FIELD_MANAGER, KubeError, ROTATION_FIELD_MANAGER, TOKEN_VERSION_ANNOTATION } from '../../../src/platform/self-service/contract';
import { RotationEvent, createHandler, restartPatch } from '../../../src/platform/self-service/rotation.lambda';
import { GATEWAY_TOKEN_PATTERN } from '../../../src/platform/self-service/tenant-naming';
import { renderTenant } from '../../../src/platform/tenant-manifests';

const secretsMock = mockClient(SecretsManagerClient);
const TENANT = 'uabcdefghi';
const NAME = `openclaw/${TENANT}/gateway-token`;
const ARN = `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${NAME}-AbCdEf`;
const OLD_VERSION = '11111111-1111-4111-8111-111111111111';
const TOKEN = '22222222-2222-4222-8222-222222222222';
const OLD_VALUE = 'OldGatewayToken000000000000000000000000000000000';
const NEW_VALUE = 'NewGatewayToken000000000000000000000000000000000';
const DEPLOYMENT = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'openclaw', namespace: `openclaw-${TENANT}` };
const rendered = renderTenant(sampleTenant(TENANT), samplePlatform());

interface Secret {
  name: string;
  tags: { Key: string; Value: string }[];
  rotationEnabled: boolean;
  versions: Record<string, { value?: string; stages: string[] }>;
}

let secret: Secret;
let kube: MemoryKube;
let logs: string[];
let tokens: string[];

const handler = createHandler({
  secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
  kube: () => kube,
  log: (level, message, fields) => logs.push(JSON.stringify({ level, message, ...fields })),
  newToken: () => tokens.shift()!,
});
const event = (Step: RotationEvent['Step'], ClientRequestToken = TOKEN): RotationEvent => ({ Step, SecretId: ARN, ClientRequestToken });
const current = () => Object.entries(secret.versions).find(([, v]) => v.stages.includes('AWSCURRENT'))?.[0];
const annotation = () => kube.object(DEPLOYMENT)?.spec?.template?.metadata?.annotations?.[TOKEN_VERSION_ANNOTATION];
const notFound = () => new ResourceNotFoundException({ message: 'Secrets Manager can\'t find the specified secret value for VersionId', $metadata: {} });

beforeEach(async () => {
  secret = {
    name: NAME,
    tags: [
      { Key: 'tenant-namespace', Value: `openclaw-${TENANT}` },
      { Key: 'budget-usd', Value: '100' },
      { Key: 'openclaw:provisioned-by', Value: 'self-service' },
    ],
    rotationEnabled: true,
    // Secrets Manager starts a rotation by attaching AWSPENDING to a new, empty version named by the token.
    versions: { [OLD_VERSION]: { value: OLD_VALUE, stages: ['AWSCURRENT'] }, [TOKEN]: { stages: ['AWSPENDING'] } },
  };
  logs = [];
  tokens = [NEW_VALUE];
  kube = new MemoryKube();
  for (const object of rendered.objects) await kube.apply(object);
  kube.applied.length = 0;

  secretsMock.reset();
  secretsMock.on(DescribeSecretCommand).callsFake((input) => {
    if (input.SecretId !== ARN) throw notFound();
    return {
      ARN,
      Name: secret.name,
      Tags: secret.tags,
      RotationEnabled: secret.rotationEnabled,
      VersionIdsToStages: Object.fromEntries(Object.entries(secret.versions)
        .filter(([, v]) => v.stages.length > 0)
        .map(([id, v]) => [id, [...v.stages]])),
    };
  });
  secretsMock.on(GetSecretValueCommand).callsFake((input) => {
    const v = input.VersionId ? secret.versions[input.VersionId] : secret.versions[current()!];
    if (!v || v.value === undefined || (input.VersionStage && !v.stages.includes(input.VersionStage))) throw notFound();
    return { ARN, Name: NAME, VersionId: input.VersionId, SecretString: v.value };
  });
  secretsMock.on(PutSecretValueCommand).callsFake((input) => {
    const v = (secret.versions[input.ClientRequestToken!] ??= { stages: [] });
    if (v.value !== undefined && v.value !== input.SecretString) throw Object.assign(new Error('token in use with another value'), { name: 'ResourceExistsException' });
    v.value = input.SecretString;
    v.stages = [...new Set([...v.stages, ...(input.VersionStages ?? [])])];
    return { ARN, VersionId: input.ClientRequestToken };
  });
  secretsMock.on(UpdateSecretVersionStageCommand).callsFake((input) => {
    const holder = current();
    if (holder !== undefined && holder !== input.MoveToVersionId && holder !== input.RemoveFromVersionId) {
      throw Object.assign(new Error('The staging label AWSCURRENT is attached to another version'), { name: 'InvalidParameterException' });
    }
    if (input.RemoveFromVersionId) secret.versions[input.RemoveFromVersionId].stages = secret.versions[input.RemoveFromVersionId].stages.filter((s) => s !== 'AWSCURRENT');
    secret.versions[input.MoveToVersionId!].stages.push('AWSCURRENT');
    return { ARN };
  });
});

afterEach(() => {
  // No token value is ever logged, and none ever reaches the cluster.
  for (const line of logs) for (const value of [OLD_VALUE, NEW_VALUE]) expect(line).not.toContain(value);
  for (const { object } of kube.applied) for (const value of [OLD_VALUE, NEW_VALUE]) expect(JSON.stringify(object)).not.toContain(value);
});

describe('a full rotation', () => {
  test('the four steps: a new token becomes current and the gateway restarts with the version ID, never the value', async () => {
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) await handler(event(step));
    expect(current()).toBe(TOKEN);
    expect(secret.versions[TOKEN].value).toBe(NEW_VALUE);
    expect(secret.versions[OLD_VERSION].stages).toEqual([]);
    expect(kube.applied).toEqual([{ object: restartPatch(TENANT, TOKEN), fieldManager: ROTATION_FIELD_MANAGER }]);
    expect(annotation()).toBe(TOKEN);
    // The rest of the Deployment is untouched (still Recreate, same pod spec).
    const deployment = kube.object(DEPLOYMENT);
    const original = rendered.objects.find((o) => o.kind === 'Deployment');
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    expect(deployment.spec.template.spec).toEqual(original.spec.template.spec);
  });

  test('the restart patch is only the pod template annotation, under the rotation\'s own field manager', () => {
    expect(restartPatch(TENANT, TOKEN)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'openclaw', namespace: `openclaw-${TENANT}` },
      spec: { template: { metadata: { annotations: { 'openclaw.ai/gateway-token-version': TOKEN } } } },
    });
    expect(ROTATION_FIELD_MANAGER).not.toBe(FIELD_MANAGER);
  });

  test('a later re-apply of the tenant by the provisioner keeps the restart annotation (separate field managers)', async () => {
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) await handler(event(step));
    for (const object of rendered.objects) await kube.apply(object);
    expect(annotation()).toBe(TOKEN);
    expect(kube.managers(DEPLOYMENT)).toEqual([FIELD_MANAGER, ROTATION_FIELD_MANAGER].sort());
  });
});

describe('each step, and its re-runs', () => {
  test('createSecret: a 48-character alphanumeric token staged AWSPENDING under the request token; a re-run puts nothing', async () => {
    const real = createHandler({ secrets: new SecretsManagerClient({ region: 'eu-west-1' }), kube: () => kube, log: () => undefined });
    await real(event('createSecret'));
    const put = secretsMock.commandCalls(PutSecretValueCommand);
    expect(put).toHaveLength(1);
    expect(put[0].args[0].input).toEqual({ SecretId: ARN, ClientRequestToken: TOKEN, SecretString: expect.stringMatching(GATEWAY_TOKEN_PATTERN), VersionStages: ['AWSPENDING'] });
    expect(put[0].args[0].input.SecretString).not.toBe(OLD_VALUE);
    await real(event('createSecret'));
    expect(secretsMock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(kube.applied).toHaveLength(0);
  });

  test('setSecret: nothing to set (the gateway reads the secret when it starts), no write, no restart', async () => {
    await handler(event('createSecret'));
    secretsMock.resetHistory();
    await handler(event('setSecret'));
    expect(secretsMock.calls().map((c) => c.args[0].constructor.name)).toEqual(['DescribeSecretCommand']);
    expect(kube.applied).toHaveLength(0);
  });

  test('testSecret: passes for a well-formed pending token, fails for a malformed or missing one', async () => {
    await expect(handler(event('testSecret'))).rejects.toThrow('the pending gateway token of secret openclaw/uabcdefghi/gateway-token is not 48 letters and digits');
    secret.versions[TOKEN].value = 'short';
    await expect(handler(event('testSecret'))).rejects.toThrow('is not 48 letters and digits');
    secret.versions[TOKEN].value = `${NEW_VALUE.slice(0, 47)}!`;
    await expect(handler(event('testSecret'))).rejects.toThrow('is not 48 letters and digits');
    secret.versions[TOKEN].value = NEW_VALUE;
    await expect(handler(event('testSecret'))).resolves.toBeUndefined();
  });

  test('finishSecret: AWSCURRENT moves to the token and off the previous version, then the gateway restarts', async () => {
    await handler(event('createSecret'));
    await handler(event('finishSecret'));
    expect(secretsMock.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN, RemoveFromVersionId: OLD_VERSION },
    ]);
    expect(annotation()).toBe(TOKEN);
  });

  test('finishSecret whose restart failed: the re-run moves nothing and restarts the gateway', async () => {
    await handler(event('createSecret'));
    kube.interceptor = (operation, effect) => {
      if (operation.startsWith('apply')) throw new KubeError(503, 'ServiceUnavailable', 'apply Deployment: the API is unavailable');
      return effect();
    };
    await expect(handler(event('finishSecret'))).rejects.toThrow('the API is unavailable');
    expect(current()).toBe(TOKEN);
    expect(annotation()).toBeUndefined();
    kube.interceptor = undefined;
    secretsMock.resetHistory();
    await handler(event('finishSecret'));
    expect(secretsMock.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(annotation()).toBe(TOKEN);
  });

  test('a finished rotation re-run from the start changes nothing but re-asserting the restart', async () => {
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) await handler(event(step));
    secretsMock.resetHistory();
    for (const step of ['createSecret', 'setSecret', 'testSecret'] as const) await handler(event(step));
    expect(secretsMock.calls().map((c) => c.args[0].constructor.name)).toEqual(['DescribeSecretCommand', 'DescribeSecretCommand', 'DescribeSecretCommand']);
    expect(kube.applied).toHaveLength(1);
    await handler(event('finishSecret'));
    expect(secretsMock.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(kube.applied.map((a) => a.object)).toEqual([restartPatch(TENANT, TOKEN), restartPatch(TENANT, TOKEN)]);
  });

  test('no gateway Deployment (not applied yet): the token still becomes current, nothing is created in the cluster', async () => {
    kube = new MemoryKube();
    await handler(event('createSecret'));
    await handler(event('finishSecret'));
    expect(current()).toBe(TOKEN);
    expect(kube.applied).toHaveLength(0);
    expect(logs.some((l) => l.includes('no gateway deployment to restart'))).toBe(true);
  });
});

describe('what the rotation refuses', () => {
  const refused = async (expected: string, step: RotationEvent['Step'] = 'createSecret', token = TOKEN) => {
    await expect(handler(event(step, token))).rejects.toThrow(expected);
    expect(secretsMock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(secretsMock.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(kube.applied).toHaveLength(0);
  };

  test.each(['prod/database', `openclaw/${TENANT}/api-key`, 'openclaw/Not_A_Tenant/gateway-token', 'openclaw/admin/gateway-token', `x/openclaw/${TENANT}/gateway-token`])(
    'a secret named %s', async (name) => {
      secret.name = name;
      for (const step of ['createSecret', 'finishSecret'] as const) await refused('refusing to rotate secret', step);
    });

  test('a code-declared tenant\'s token (no provisioned-by tag)', async () => {
    secret.tags = secret.tags.filter((t) => t.Key !== 'openclaw:provisioned-by');
    await refused('refusing to rotate secret');
  });

  test('a token tagged for another tenant\'s namespace', async () => {
    secret.tags = secret.tags.map((t) => (t.Key === 'tenant-namespace' ? { ...t, Value: 'openclaw-someone' } : t));
    await refused('refusing to rotate secret', 'finishSecret');
  });

  test('a secret whose rotation is not enabled', async () => {
    secret.rotationEnabled = false;
    await refused(`secret ${NAME} does not have rotation enabled`);
  });

  test('a token that is not a version of the secret', async () => {
    await refused('is not a version of secret', 'createSecret', '33333333-3333-4333-8333-333333333333');
  });

  test('a version that is not pending', async () => {
    secret.versions[TOKEN].stages = ['AWSPREVIOUS'];
    await refused('is not pending rotation', 'finishSecret');
  });

  test.each([
    ['no event', undefined],
    ['an unknown step', { Step: 'deleteSecret', SecretId: ARN, ClientRequestToken: TOKEN }],
    ['no secret', { Step: 'createSecret', ClientRequestToken: TOKEN }],
    ['a short token', { Step: 'createSecret', SecretId: ARN, ClientRequestToken: 'v2' }],
    ['a token with a slash', { Step: 'createSecret', SecretId: ARN, ClientRequestToken: `${TOKEN}/x` }],
  ])('%s: refused before any call', async (_, e) => {
    await expect(handler(e as RotationEvent)).rejects.toThrow('not a Secrets Manager rotation event');
    expect(secretsMock.calls()).toHaveLength(0);
  });
});
