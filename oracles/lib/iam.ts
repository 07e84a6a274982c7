/**
 * The IAM oracle: the policies a template grants, simulated by an IAM policy simulator we did not write
 * (@cloud-copilot/iam-simulate, strict mode, with its input validation), against a readable matrix of
 * principal × action × resource and the decision expected (oracles/iam-matrix.yaml).
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Finding } from './findings';
import { Environment, resolveIntrinsics } from './intrinsics';

/** The decisions AWS IAM can reach. */
export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

/** One row of the matrix: `as` (a role alias) doing `do` (an action) on `on` (a resource alias or an ARN). */
export interface IamCase {
  readonly as: string;
  readonly do: string;
  readonly on: string;
  readonly expect: Decision;
  /** The apps the row holds for; every app that has the role when omitted. */
  readonly apps?: string[];
  /** Request context, e.g. `cloudwatch:namespace`. `aws:SecureTransport` is always true. */
  readonly context?: Record<string, string>;
}

/** A resource alias: the logical id prefix of a resource in the template, and an optional object path inside it. */
export interface ResourceAlias {
  readonly logicalId: string;
  readonly path?: string;
}

/** A role that only some apps have. */
export interface RoleAlias {
  readonly prefix: string;
  readonly apps: string[];
}

/** The logical id prefix of a role alias, or undefined when `app` does not have the role. */
function rolePrefix(matrix: IamMatrix, alias: string, app: string): string | undefined {
  const role = matrix.roles[alias];
  if (role === undefined) throw new Error(`no role alias ${alias} in the matrix`);
  if (typeof role === 'string') return role;
  return role.apps.includes(app) ? role.prefix : undefined;
}

/** The whole matrix file. */
export interface IamMatrix {
  readonly account: string;
  readonly region: string;
  /** Alias → logical id prefix of an AWS::IAM::Role, or the prefix and the apps that have the role. */
  readonly roles: Record<string, string | RoleAlias>;
  /** Alias → the resource (its ARN is what CloudFormation would give it in account/region). */
  readonly resources: Record<string, ResourceAlias>;
  /** AWS managed policies a role may carry: they are not simulated (their text is not in the template). */
  readonly managedPolicies: Record<string, string[]>;
  readonly cases: IamCase[];
}

function findLogicalId(template: any, prefix: string, type?: string): string {
  const ids = Object.entries(template.Resources as Record<string, any>)
    // CDK logical ids are the construct path followed by an 8-digit hash.
    .filter(([id, r]) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id) && (type === undefined || r.Type === type))
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type ?? 'resource'} whose logical id is ${prefix} and a hash, found ${ids.length}: ${ids.join(', ')}`);
  return ids[0];
}

/**
 * The identity policies (inline and attached customer policies), the permissions boundary (a customer policy of the
 * template) and the AWS managed policy names of a role.
 */
export function rolePolicies(template: any, roleId: string, env: Environment): {
  identity: Array<{ name: string; policy: any }>; boundary: Array<{ name: string; policy: any }>; managed: string[];
} {
  const resources = template.Resources as Record<string, any>;
  const role = resources[roleId];
  const identity: Array<{ name: string; policy: any }> = [];
  for (const [i, p] of (role.Properties.Policies ?? []).entries()) {
    identity.push({ name: p.PolicyName ?? `inline${i}`, policy: resolveIntrinsics(p.PolicyDocument, template, env) });
  }
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const roles = (r.Properties.Roles ?? []).map((x: any) => x?.Ref);
    if (roles.includes(roleId)) identity.push({ name: id, policy: resolveIntrinsics(r.Properties.PolicyDocument, template, env) });
  }
  const managed = resolveIntrinsics(role.Properties.ManagedPolicyArns ?? [], template, env)
    .map((arn: string) => arn.replace(/^arn:aws:iam::aws:policy\//, ''));
  const boundaryRef = role.Properties.PermissionsBoundary?.Ref;
  if (role.Properties.PermissionsBoundary !== undefined && resources[boundaryRef]?.Type !== 'AWS::IAM::ManagedPolicy') {
    throw new Error(`role ${roleId}: only a permissions boundary defined in the template can be simulated`);
  }
  const boundary = boundaryRef
    ? [{ name: boundaryRef, policy: resolveIntrinsics(resources[boundaryRef].Properties.PolicyDocument, template, env) }]
    : [];
  return { identity, boundary, managed };
}

/** The resource policy that takes part in a request on `resourceArn`, if the template has one. */
function resourcePolicyFor(template: any, resourceArn: string, env: Environment): any | undefined {
  for (const [id, r] of Object.entries(template.Resources as Record<string, any>)) {
    if (r.Type === 'AWS::KMS::Key') {
      const arn = resolveIntrinsics({ 'Fn::GetAtt': [id, 'Arn'] }, template, env);
      if (resourceArn === arn) return resolveIntrinsics(r.Properties.KeyPolicy, template, env);
    }
    if (r.Type === 'AWS::S3::BucketPolicy') {
      const bucket = resolveIntrinsics(r.Properties.Bucket, template, env);
      if (resourceArn === `arn:aws:s3:::${bucket}` || resourceArn.startsWith(`arn:aws:s3:::${bucket}/`)) {
        return resolveIntrinsics(r.Properties.PolicyDocument, template, env);
      }
    }
  }
  return undefined;
}

/** The ARN a resource alias stands for. */
export function resolveResource(template: any, matrix: IamMatrix, on: string): string {
  if (on.startsWith('arn:') || on === '*') return on;
  const alias = matrix.resources[on];
  if (!alias) throw new Error(`the matrix has no resource alias '${on}'`);
  const id = findLogicalId(template, alias.logicalId);
  const type = template.Resources[id].Type;
  const env = { account: matrix.account, region: matrix.region };
  const arn = type === 'AWS::SecretsManager::Secret' || type === 'AWS::IAM::ManagedPolicy'
    ? resolveIntrinsics({ Ref: id }, template, env)
    : resolveIntrinsics({ 'Fn::GetAtt': [id, 'Arn'] }, template, env);
  return alias.path ? `${arn.replace(/:\*$/, '')}${type === 'AWS::S3::Bucket' ? '/' : ':'}${alias.path}` : arn;
}

/** Runs every case of the matrix that holds for `app`; a case whose decision differs is a finding. */
export async function runIamMatrix(template: any, app: string, matrix: IamMatrix): Promise<{ findings: Finding[]; ran: number }> {
  const env = { account: matrix.account, region: matrix.region };
  const findings: Finding[] = [];
  let ran = 0;
  for (const alias of Object.keys(matrix.roles)) {
    const prefix = rolePrefix(matrix, alias, app);
    if (prefix === undefined) continue;
    const roleId = findLogicalId(template, prefix, 'AWS::IAM::Role');
    const { managed } = rolePolicies(template, roleId, env);
    const allowed = matrix.managedPolicies[alias] ?? [];
    for (const name of managed.filter((m) => !allowed.includes(m))) {
      findings.push({ tool: 'iam', check: 'managed-policy', app, resource: alias, message: `role ${alias} carries the AWS managed policy ${name}, which the matrix does not allow` });
    }
  }
  for (const c of matrix.cases) {
    if (c.apps && !c.apps.includes(app)) continue;
    const prefix = rolePrefix(matrix, c.as, app);
    if (prefix === undefined) {
      // A row holds for the apps that have its role; naming an app without the role is a mistake in the matrix.
      if (c.apps) throw new Error(`case ${c.as} ${c.do} ${c.on} names ${app}, which has no role ${c.as}`);
      continue;
    }
    const roleId = findLogicalId(template, prefix, 'AWS::IAM::Role');
    const { identity, boundary } = rolePolicies(template, roleId, env);
    const resource = resolveResource(template, matrix, c.on);
    const resourcePolicy = resourcePolicyFor(template, resource, env);
    const response = await runSimulation({
      identityPolicies: identity,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
      permissionBoundaryPolicies: boundary.length > 0 ? boundary : undefined,
      request: {
        principal: `arn:aws:iam::${matrix.account}:role/${roleId}`,
        action: c.do,
        resource: { resource, accountId: matrix.account },
        contextVariables: { 'aws:SecureTransport': 'true', ...c.context },
      },
    }, {});
    ran++;
    const where = `${c.as} ${c.do} ${c.on}`;
    if (response.resultType === 'error') {
      findings.push({ tool: 'iam', check: 'invalid-request', app, resource: where, message: JSON.stringify(response.errors) });
      continue;
    }
    if (response.overallResult !== c.expect) {
      findings.push({ tool: 'iam', check: 'decision', app, resource: where, message: `expected ${c.expect}, the simulator says ${response.overallResult}` });
    }
  }
  return { findings, ran };
}
