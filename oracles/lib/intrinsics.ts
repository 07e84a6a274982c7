/**
 * Reads what a synthesized template would become in one account and region: CloudFormation intrinsics resolved
 * to concrete strings the way CloudFormation would, with deterministic names standing in for the physical names
 * and ids it would generate. The IAM oracle simulates policies read this way; the Kubernetes oracle reads
 * manifests (JSON joined from tokens) this way.
 */
import { createHash } from 'crypto';

/** The account and region a template is read in. */
export interface Environment {
  readonly account: string;
  readonly region: string;
  readonly partition?: string;
}

/** What `Ref` of a resource gives, per resource type (the rest give the logical id). */
function refOf(type: string, id: string, env: Required<Environment>): string {
  switch (type) {
    case 'AWS::SecretsManager::Secret':
      return `arn:${env.partition}:secretsmanager:${env.region}:${env.account}:secret:${id}-AbCdEf`;
    case 'AWS::S3::Bucket':
      return id.toLowerCase();
    case 'AWS::SNS::Topic':
      return `arn:${env.partition}:sns:${env.region}:${env.account}:${id}`;
    case 'AWS::EC2::Instance':
      return `i-${hex(id, 17)}`;
    case 'AWS::EFS::FileSystem':
      return `fs-${hex(id, 17)}`;
    case 'AWS::KMS::Key':
      return `${hex(id, 8)}-0000-4000-8000-${hex(id + 'k', 12)}`;
    case 'AWS::IAM::ManagedPolicy':
      return `arn:${env.partition}:iam::${env.account}:policy/${id}`;
    default:
      return id;
  }
}

/** What `Fn::GetAtt` of a resource gives, for the attributes policies and manifests use. */
function getAtt(type: string, id: string, attribute: string, env: Required<Environment>): string {
  const { partition: p, region: r, account: a } = env;
  const ref = refOf(type, id, env);
  if (attribute === 'Arn') {
    switch (type) {
      case 'AWS::S3::Bucket': return `arn:${p}:s3:::${ref}`;
      case 'AWS::KMS::Key': return `arn:${p}:kms:${r}:${a}:key/${ref}`;
      case 'AWS::Logs::LogGroup': return `arn:${p}:logs:${r}:${a}:log-group:${ref}:*`;
      case 'AWS::IAM::Role': return `arn:${p}:iam::${a}:role/${ref}`;
      case 'AWS::EFS::FileSystem': return `arn:${p}:elasticfilesystem:${r}:${a}:file-system/${ref}`;
      case 'AWS::SecretsManager::Secret': return ref;
      case 'AWS::SNS::Topic': return ref;
      default: return `arn:${p}:${type.split('::')[1].toLowerCase()}:${r}:${a}:${id}`;
    }
  }
  return `${id}.${attribute}`;
}

/** A stable pseudo-random hex string for a logical id, so generated ids look like the real thing. */
function hex(seed: string, length: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}

/** Resolves every intrinsic in `value` as CloudFormation would in `env`. Unknown intrinsics fail loudly. */
export function resolveIntrinsics(value: any, template: any, environment: Environment): any {
  const env: Required<Environment> = { partition: 'aws', ...environment };
  const resources: Record<string, any> = template.Resources ?? {};
  const pseudo: Record<string, string> = {
    'AWS::AccountId': env.account,
    'AWS::Region': env.region,
    'AWS::Partition': env.partition,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'Stack',
    'AWS::NoValue': '',
  };
  const ref = (name: string): string => {
    if (name in pseudo) return pseudo[name];
    const resource = resources[name];
    if (resource) return refOf(resource.Type, name, env);
    if (template.Parameters?.[name]) return `{parameter ${name}}`;
    throw new Error(`Ref to unknown ${name}`);
  };
  const att = (name: string, attribute: string): string => {
    const resource = resources[name];
    if (!resource) throw new Error(`Fn::GetAtt of unknown ${name}`);
    return getAtt(resource.Type, name, attribute, env);
  };
  const walk = (v: any): any => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
      const [fn] = keys;
      const arg = v[fn];
      switch (fn) {
        case 'Ref': return ref(arg);
        case 'Fn::GetAtt': return Array.isArray(arg) ? att(arg[0], arg[1]) : att(arg.split('.')[0], arg.split('.').slice(1).join('.'));
        case 'Fn::Join': return (walk(arg[1]) as any[]).map(String).join(arg[0]);
        case 'Fn::Select': return walk(arg[1])[Number(walk(arg[0]))];
        case 'Fn::FindInMap': {
          const [map, key, attribute] = (arg as any[]).map(walk);
          const found = template.Mappings?.[map]?.[key]?.[attribute];
          if (found === undefined) throw new Error(`Fn::FindInMap: no ${map}.${key}.${attribute}`);
          return found;
        }
        case 'Fn::Split': return String(walk(arg[1])).split(arg[0]);
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? [arg[0], walk(arg[1] ?? {})] : [arg, {}];
          return (text as string).replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
            if (name in vars) return String(vars[name]);
            if (name.includes('.') && !name.startsWith('AWS::')) return att(name.split('.')[0], name.split('.').slice(1).join('.'));
            return ref(name);
          });
        }
        default: throw new Error(`intrinsic ${fn} is not supported by the oracle reader`);
      }
    }
    return Object.fromEntries(keys.map((k) => [k, walk(v[k])]));
  };
  return walk(value);
}
