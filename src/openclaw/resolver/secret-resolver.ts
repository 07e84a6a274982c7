import { checkInt, fail, isToken } from '../private/validate';
import { ExecSecretProviderProps } from '../secret-provider';
import { SecretRef } from '../secret-ref';
import { RESOLVER_SCRIPT_BODY } from './script';

/**
 * Where the exec secret resolver is installed on the host, and how it reaches AWS Secrets Manager.
 */
export interface SecretResolverOptions {
  /**
   * The provider alias under `secrets.providers`.
   *
   * @default 'aws-secrets-manager'
   */
  readonly providerName?: string;

  /**
   * Absolute path of the installed resolver script. OpenClaw requires it to be a regular file
   * (not a symlink) owned by the user the gateway runs as, executable by that user and not
   * writable by group or others (for example mode 0500).
   *
   * @default '/opt/openclaw/bin/openclaw-secret-resolver'
   */
  readonly installPath?: string;

  /**
   * Secret ids (names or ARNs) the resolver will fetch: an id must start with one of these
   * prefixes, anything else is refused without calling AWS. May contain tokens (e.g. a secret ARN).
   *
   * @default ['openclaw/']
   */
  readonly allowedPrefixes?: string[];

  /**
   * Region of the Secrets Manager endpoint, passed to the AWS CLI. May be a token.
   *
   * @default - the AWS CLI's own resolution (the `AWS_REGION` / `AWS_DEFAULT_REGION` variables,
   *   which are passed through to the resolver)
   */
  readonly region?: string;

  /**
   * Absolute path of the AWS CLI v2 executable.
   *
   * @default '/usr/bin/aws'
   */
  readonly awsCliPath?: string;

  /**
   * Timeout of each AWS CLI call, in milliseconds (100-120000).
   *
   * @default 4000
   */
  readonly callTimeoutMs?: number;

  /**
   * How long OpenClaw waits for the whole resolver run, in milliseconds (1-120000).
   * Ids are fetched four at a time, so keep this above `callTimeoutMs`.
   *
   * @default 10000
   */
  readonly timeoutMs?: number;
}

/**
 * Options of the resolver script text.
 */
export interface SecretResolverScriptOptions {
  /**
   * Absolute path of the Node.js (22 or later) interpreter, written into the script's `#!` line.
   *
   * @default '/usr/bin/node'
   */
  readonly nodePath?: string;
}

/**
 * The exec secret resolver: a dependency-free Node.js script that OpenClaw runs as an exec
 * secret provider to read secrets from AWS Secrets Manager through the AWS CLI.
 *
 * It reads `{"protocolVersion":1,"provider":…,"ids":[…]}` on stdin, fetches each id with
 * `aws secretsmanager get-secret-value` (spawned without a shell, the id passed as one
 * `--secret-id=<id>` argument), and prints `{"protocolVersion":1,"values":{…},"errors":{…}}`.
 * An id may end with `#<key>` to pick one key of a JSON secret. Ids outside the allowed
 * prefixes are refused without calling AWS. Secret values are never written to disk, to
 * stderr or into error messages; errors carry a code (`NOT_FOUND`, `NOT_ALLOWED`,
 * `ACCESS`-style AWS error names, `TIMEOUT`…) and a fixed message.
 *
 * Script arguments: `--allow-prefix <prefix>` (repeatable; no prefix means every id is
 * refused), `--region <region>`, `--aws-cli <path>`, `--timeout-ms <ms>`.
 */
export class OpenClawSecretResolver {
  /** The default provider alias of the resolver. */
  public static readonly DEFAULT_PROVIDER_NAME = 'aws-secrets-manager';

  /** The default install path of the resolver script on the host. */
  public static readonly DEFAULT_INSTALL_PATH = '/opt/openclaw/bin/openclaw-secret-resolver';

  /** The default Secrets Manager name of the gateway token. */
  public static readonly DEFAULT_GATEWAY_TOKEN_SECRET_NAME = 'openclaw/gateway-token';

  /**
   * The resolver's source text, starting with a `#!` line, ready to be written to `installPath`
   * (kept under 4 KB so it fits in EC2 user data).
   */
  public static scriptSource(options: SecretResolverScriptOptions = {}): string {
    const nodePath = options.nodePath ?? '/usr/bin/node';
    if (isToken(nodePath) || !nodePath.startsWith('/') || /\s/.test(nodePath)) {
      fail('secretResolver.nodePath', 'an absolute path without spaces', nodePath);
    }
    return `#!${nodePath}\n${RESOLVER_SCRIPT_BODY}`;
  }

  /**
   * The `secrets.providers.<name>` exec provider entry that runs the installed resolver.
   */
  public static execProvider(options: SecretResolverOptions = {}): ExecSecretProviderProps {
    const prefixes = options.allowedPrefixes ?? ['openclaw/'];
    if (!isToken(prefixes)) {
      if (prefixes.length === 0) {
        fail('secretResolver.allowedPrefixes', 'a non-empty list of secret name or ARN prefixes', '[]');
      }
      prefixes.forEach((p, i) => {
        if (!isToken(p) && (p.trim() === '' || p.startsWith('-'))) {
          fail(`secretResolver.allowedPrefixes[${i}]`, "a non-empty prefix not starting with '-'", p);
        }
      });
    }
    checkInt('secretResolver.callTimeoutMs', options.callTimeoutMs, 100, 120_000);
    const args: string[] = [];
    for (const p of isToken(prefixes) ? [] : prefixes) {
      args.push('--allow-prefix', p);
    }
    if (options.region !== undefined) {
      args.push('--region', options.region);
    }
    if (options.awsCliPath !== undefined) {
      if (!isToken(options.awsCliPath) && !options.awsCliPath.startsWith('/')) {
        fail('secretResolver.awsCliPath', "an absolute path starting with '/'", options.awsCliPath);
      }
      args.push('--aws-cli', options.awsCliPath);
    }
    if (options.callTimeoutMs !== undefined) {
      args.push('--timeout-ms', String(options.callTimeoutMs));
    }
    return {
      name: options.providerName ?? OpenClawSecretResolver.DEFAULT_PROVIDER_NAME,
      command: options.installPath ?? OpenClawSecretResolver.DEFAULT_INSTALL_PATH,
      args,
      timeoutMs: options.timeoutMs ?? 10_000,
      jsonOnly: true,
      // The resolver runs with an otherwise empty environment; the AWS CLI needs these to find
      // its region and its credentials (instance role via IMDS needs none of them).
      passEnv: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
    };
  }

  /**
   * A reference to a Secrets Manager secret through the resolver.
   *
   * @param secretId the secret name or ARN (may be a token such as `secret.secretArn`),
   *   optionally followed by `#<json key>`
   * @param providerName the resolver's provider alias
   */
  public static secretRef(secretId: string, providerName?: string): SecretRef {
    return SecretRef.fromExec(providerName ?? OpenClawSecretResolver.DEFAULT_PROVIDER_NAME, secretId);
  }

  private constructor() {}
}
