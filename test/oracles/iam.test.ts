import { readFileSync } from 'fs';
import { join } from 'path';
import * as YAML from 'yaml';
import { IamMatrix, rolePolicies, runIamMatrix } from '../../oracles/lib/iam';
import { resolveIntrinsics } from '../../oracles/lib/intrinsics';
import { TEMPLATE_MUTANTS } from '../../oracles/lib/mutants';
import { synthHost } from '../util';

const env = { account: '111122223333', region: 'eu-west-1' };

describe('reading a template as CloudFormation would (the oracles\' intrinsics reader)', () => {
  const template = {
    Mappings: { Accounts: { 'eu-west-1': { elb: '156460612806' } } },
    Parameters: { Ami: { Type: 'String' } },
    Resources: {
      Bucket1: { Type: 'AWS::S3::Bucket' },
      Key1: { Type: 'AWS::KMS::Key' },
      Secret1: { Type: 'AWS::SecretsManager::Secret' },
      Role1: { Type: 'AWS::IAM::Role' },
    },
  };

  test('Ref, GetAtt, Join, Sub, Select, Split and FindInMap resolve to concrete strings', () => {
    expect(resolveIntrinsics({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket1', 'Arn'] }, '/*']] }, template, env)).toBe('arn:aws:s3:::bucket1/*');
    expect(resolveIntrinsics({ 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Role1}' }, template, env)).toBe('arn:aws:iam::111122223333:role/Role1');
    expect(resolveIntrinsics({ 'Fn::Sub': ['${A}-${Bucket1.Arn}', { A: 'x' }] }, template, env)).toBe('x-arn:aws:s3:::bucket1');
    expect(resolveIntrinsics({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] }, template, env)).toBe('b');
    expect(resolveIntrinsics({ 'Fn::FindInMap': ['Accounts', { Ref: 'AWS::Region' }, 'elb'] }, template, env)).toBe('156460612806');
    expect(resolveIntrinsics({ Ref: 'Secret1' }, template, env)).toMatch(/^arn:aws:secretsmanager:eu-west-1:111122223333:secret:Secret1-\w{6}$/);
    expect(resolveIntrinsics({ 'Fn::GetAtt': ['Key1', 'Arn'] }, template, env)).toMatch(/^arn:aws:kms:eu-west-1:111122223333:key\/[0-9a-f-]{36}$/);
    expect(resolveIntrinsics({ Ref: 'Ami' }, template, env)).toBe('{parameter Ami}');
  });

  test('an unknown reference or intrinsic fails loudly instead of guessing', () => {
    expect(() => resolveIntrinsics({ Ref: 'Nope' }, template, env)).toThrow(/Ref to unknown Nope/);
    expect(() => resolveIntrinsics({ 'Fn::If': ['c', 1, 2] }, template, env)).toThrow(/Fn::If is not supported/);
  });
});

describe('the IAM oracle', () => {
  const { json } = synthHost();
  const matrix: IamMatrix = YAML.parse(readFileSync(join(__dirname, '..', '..', 'oracles', 'iam-matrix.yaml'), 'utf8'));
  // synthHost names the host 'Host' where the reference apps name it 'OpenClaw'.
  const forTest: IamMatrix = {
    ...matrix,
    // The host's role under its test name; the other apps' roles keep their scoping.
    roles: { ...matrix.roles, host: 'HostRole' },
    resources: Object.fromEntries(Object.entries(matrix.resources).map(([k, v]) => [k, { ...v, logicalId: v.logicalId.replace(/^OpenClaw/, 'Host') }])),
  };

  test('the host role\'s policies are read with every intrinsic resolved, and its only managed policy is SSM core', () => {
    const roleId = Object.keys(json.Resources).find((id) => /^HostRole[0-9A-F]{8}$/.test(id))!;
    const { identity, managed } = rolePolicies(json, roleId, env);
    expect(managed).toEqual(['AmazonSSMManagedInstanceCore']);
    expect(JSON.stringify(identity)).not.toMatch(/"(Ref|Fn::[A-Za-z]+)"/);
  });

  test('the committed matrix holds for a default host', async () => {
    const { findings, ran } = await runIamMatrix(json, 'single-host', forTest);
    expect(findings).toEqual([]);
    const hostAliases = ['host'];
    expect(ran).toBe(matrix.cases.filter((c) => hostAliases.includes(c.as) && (!c.apps || c.apps.includes('single-host'))).length);
    expect(ran).toBeGreaterThan(20);
  });

  test('a role only some apps have is skipped elsewhere with its rows, and a row naming such an app is refused', async () => {
    const partial: IamMatrix = { ...forTest, roles: { ...forTest.roles, other: { prefix: 'NoSuchRole', apps: ['alb-cognito'] } } };
    expect((await runIamMatrix(json, 'single-host', { ...partial, cases: [] })).findings).toEqual([]);
    const elsewhere: IamMatrix = { ...partial, cases: [{ as: 'other', do: 's3:GetObject', on: '*', expect: 'ImplicitlyDenied' }] };
    expect(await runIamMatrix(json, 'single-host', elsewhere)).toEqual({ findings: [], ran: 0 });
    const misplaced: IamMatrix = { ...partial, cases: [{ as: 'other', do: 's3:GetObject', on: '*', expect: 'ImplicitlyDenied', apps: ['single-host'] }] };
    await expect(runIamMatrix(json, 'single-host', misplaced)).rejects.toThrow(/names single-host, which has no role other/);
  });

  test('a wrong expectation is reported with what the simulator decided', async () => {
    const wrong: IamMatrix = { ...forTest, cases: [{ as: 'host', do: 'secretsmanager:GetSecretValue', on: 'own-token', expect: 'ImplicitlyDenied' }] };
    const { findings } = await runIamMatrix(json, 'single-host', wrong);
    expect(findings).toEqual([expect.objectContaining({ tool: 'iam', check: 'decision', message: 'expected ImplicitlyDenied, the simulator says Allowed' })]);
  });

  test('a role reading every secret is caught by the matrix', async () => {
    const broken = TEMPLATE_MUTANTS.find((m) => m.name === 'secrets-on-any-resource')!.apply(json);
    const { findings } = await runIamMatrix(broken, 'single-host', forTest);
    expect(findings.map((f) => f.resource)).toContain('host secretsmanager:GetSecretValue arn:aws:secretsmanager:us-east-1:111122223333:secret:another-teams-token-AbCdEf');
  });

  test('an AWS managed policy the matrix does not list is reported', async () => {
    const { findings } = await runIamMatrix(json, 'single-host', { ...forTest, managedPolicies: { host: [] }, cases: [] });
    expect(findings).toEqual([expect.objectContaining({ check: 'managed-policy', message: expect.stringContaining('AmazonSSMManagedInstanceCore') })]);
  });
});
