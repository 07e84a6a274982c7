/**
 * Deliberately broken copies of a template: what a regression in the library would look like. The oracles
 * must catch each one.
 */

/** A way to break a template. */
export interface TemplateMutant {
  readonly name: string;
  readonly description: string;
  /** Returns a broken copy; the input is left alone. Throws when the template has nothing to break. */
  apply(template: any): any;
}

function copy(template: any): any {
  return JSON.parse(JSON.stringify(template));
}

function firstOf(template: any, type: string, where: (r: any) => boolean = () => true): [string, any] {
  const found = Object.entries(template.Resources as Record<string, any>).find(([, r]) => r.Type === type && where(r));
  if (!found) throw new Error(`the template has no ${type} to break`);
  return found;
}

export const TEMPLATE_MUTANTS: TemplateMutant[] = [
  {
    name: 'ssh-from-anywhere',
    description: 'the instance security group opens port 22 to 0.0.0.0/0',
    apply(template) {
      const t = copy(template);
      const [, group] = firstOf(t, 'AWS::EC2::SecurityGroup', (r) => /OpenClaw gateway|OpenClaw host/i.test(r.Properties?.GroupDescription ?? ''));
      group.Properties.SecurityGroupIngress = [
        ...(group.Properties.SecurityGroupIngress ?? []),
        { CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Description: 'ssh' },
      ];
      return t;
    },
  },
  {
    name: 'unencrypted-bucket',
    description: 'the backup bucket loses its encryption, versioning and public access block',
    apply(template) {
      const t = copy(template);
      const [, bucket] = firstOf(t, 'AWS::S3::Bucket', (r) => JSON.stringify(r.Properties?.BucketEncryption ?? '').includes('aws:kms'));
      delete bucket.Properties.BucketEncryption;
      delete bucket.Properties.VersioningConfiguration;
      delete bucket.Properties.PublicAccessBlockConfiguration;
      return t;
    },
  },
  {
    name: 'secrets-on-any-resource',
    description: 'the instance role may read every secret of the account (Resource "*")',
    apply(template) {
      const t = copy(template);
      const [, policy] = firstOf(t, 'AWS::IAM::Policy', (r) => JSON.stringify(r.Properties.PolicyDocument).includes('secretsmanager:GetSecretValue'));
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        if (JSON.stringify(statement.Action).includes('secretsmanager:GetSecretValue')) statement.Resource = '*';
      }
      return t;
    },
  },
  {
    name: 'key-rotation-off',
    description: 'the customer-managed key stops rotating',
    apply(template) {
      const t = copy(template);
      const [, key] = firstOf(t, 'AWS::KMS::Key');
      key.Properties.EnableKeyRotation = false;
      return t;
    },
  },
];
