import { Token } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { IConstruct } from 'constructs';
import { checkLogRetention } from '../core/storage';
import { checkIntegerRange, invalidProp } from '../core/validation';

/** The web ACL in front of the distribution (AWS WAF, CLOUDFRONT scope). */
export interface EdgeFirewallOptions {
  /**
   * Requests one client IP may send in 5 minutes before WAF blocks it (AWS WAF accepts 10 to 2,000,000,000).
   * @default 2000
   */
  readonly rateLimitPer5Minutes?: number;

  /**
   * Add AWS WAF Bot Control (common inspection level): blocks known bad bots. Billed per request on top of WAF.
   * @default false
   */
  readonly botControl?: boolean;

  /**
   * Only these countries (ISO 3166-1 alpha-2 codes) may reach the gateway; every other country is blocked.
   * @default - every country
   */
  readonly allowedCountries?: string[];

  /**
   * These countries (ISO 3166-1 alpha-2 codes) are blocked. Not with `allowedCountries`.
   * @default - none
   */
  readonly blockedCountries?: string[];

  /**
   * Rules of yours, evaluated after the library's (their priorities must be 100 or more, each with CloudWatch
   * metrics and sampled requests on).
   * @default - none
   */
  readonly customRules?: wafv2.CfnWebACL.RuleProperty[];

  /**
   * Retention of the WAF log group (in us-east-1, named `aws-waf-logs-...`).
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The ARN of a KMS key in us-east-1 that encrypts the WAF log group; its key policy must let CloudWatch Logs of
   * us-east-1 (`logs.us-east-1.amazonaws.com`) use it. A stack outside us-east-1 cannot create that key itself.
   * @default - CloudWatch Logs' own encryption at rest
   */
  readonly logEncryptionKeyArn?: string;
}

/** The priorities below this one are the library's. */
export const FIRST_CUSTOM_PRIORITY = 100;

const COUNTRY = /^[A-Z]{2}$/;

/** The managed rule groups every edge has, in evaluation order. */
export const MANAGED_GROUPS = ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet'];

/**
 * The web ACL's rules in the shape of the WAF API (what the us-east-1 handler sends to CreateWebACL and
 * UpdateWebACL): geo rules, the rate limit, the managed groups, optional Bot Control, then the custom rules.
 * Every rule has CloudWatch metrics and sampled requests on.
 * @internal
 */
export function renderEdgeRules(scope: IConstruct, metricPrefix: string, options: EdgeFirewallOptions = {}): any[] {
  validateFirewall(scope, options);
  const rules: any[] = [];
  const visibility = (name: string) => ({ SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: `${metricPrefix}-${name}` });
  const add = (name: string, rule: any) => rules.push({ Name: name, Priority: rules.length, ...rule, VisibilityConfig: visibility(name) });

  if (options.blockedCountries?.length) {
    add('BlockCountries', { Action: { Block: {} }, Statement: { GeoMatchStatement: { CountryCodes: options.blockedCountries } } });
  }
  if (options.allowedCountries?.length) {
    add('AllowOnlyCountries', {
      Action: { Block: {} },
      Statement: { NotStatement: { Statement: { GeoMatchStatement: { CountryCodes: options.allowedCountries } } } },
    });
  }
  add('RateLimitPerIp', {
    Action: { Block: {} },
    Statement: { RateBasedStatement: { Limit: options.rateLimitPer5Minutes ?? 2000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
  });
  for (const group of MANAGED_GROUPS) {
    add(group, { OverrideAction: { None: {} }, Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: group } } });
  }
  if (options.botControl) {
    add('AWSManagedRulesBotControlRuleSet', {
      OverrideAction: { None: {} },
      Statement: {
        ManagedRuleGroupStatement: {
          VendorName: 'AWS',
          Name: 'AWSManagedRulesBotControlRuleSet',
          ManagedRuleGroupConfigs: [{ AWSManagedRulesBotControlRuleSet: { InspectionLevel: 'COMMON' } }],
        },
      },
    });
  }
  for (const custom of options.customRules ?? []) rules.push(toApiShape(custom));
  return rules;
}

function validateFirewall(scope: IConstruct, options: EdgeFirewallOptions): void {
  checkIntegerRange(scope, 'firewall.rateLimitPer5Minutes', options.rateLimitPer5Minutes, 10, 2_000_000_000);
  checkLogRetention(scope, 'firewall.logRetention', options.logRetention);
  const keyArn = options.logEncryptionKeyArn;
  if (keyArn !== undefined && !Token.isUnresolved(keyArn) && !/^arn:aws[a-z-]*:kms:us-east-1:\d{12}:key\/[0-9a-f-]{36}$/.test(keyArn)) {
    invalidProp(scope, 'firewall.logEncryptionKeyArn', keyArn, 'the ARN of a KMS key in us-east-1 (arn:aws:kms:us-east-1:<account>:key/<id>), where the WAF log group is');
  }
  for (const prop of ['allowedCountries', 'blockedCountries'] as const) {
    for (const code of options[prop] ?? []) {
      if (!Token.isUnresolved(code) && !COUNTRY.test(code)) {
        invalidProp(scope, `firewall.${prop}`, code, 'ISO 3166-1 alpha-2 country codes in capitals such as DE or US');
      }
    }
  }
  if (options.allowedCountries?.length && options.blockedCountries?.length) {
    invalidProp(scope, 'firewall.blockedCountries', options.blockedCountries, 'left out when allowedCountries is given (every other country is blocked already)');
  }
  const names = new Set<string>();
  for (const rule of options.customRules ?? []) {
    if (Token.isUnresolved(rule.priority) || rule.priority < FIRST_CUSTOM_PRIORITY) {
      invalidProp(scope, 'firewall.customRules', `${rule.name} at priority ${rule.priority}`, `rules at priority ${FIRST_CUSTOM_PRIORITY} or more (the library's rules come first)`);
    }
    const v = rule.visibilityConfig as wafv2.CfnWebACL.VisibilityConfigProperty;
    if (v.cloudWatchMetricsEnabled !== true || v.sampledRequestsEnabled !== true) {
      invalidProp(scope, 'firewall.customRules', rule.name, 'rules with visibilityConfig.cloudWatchMetricsEnabled and sampledRequestsEnabled true (every rule is observable)');
    }
    if (names.has(rule.name)) invalidProp(scope, 'firewall.customRules', rule.name, 'rules with distinct names');
    names.add(rule.name);
  }
}

/**
 * A rule written as CloudFormation's (camelCase) properties, in the WAF API's PascalCase. Names of the two APIs
 * differ in case only, except the acronyms below.
 */
function toApiShape(value: unknown): any {
  if (Array.isArray(value)) return value.map(toApiShape);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [apiName(k), toApiShape(v)]));
}

const ACRONYMS: Record<string, string> = { ipSetReferenceStatement: 'IPSetReferenceStatement', ipSetForwardedIpConfig: 'IPSetForwardedIPConfig', forwardedIpConfig: 'ForwardedIPConfig', arn: 'ARN', sqliMatchStatement: 'SqliMatchStatement', xssMatchStatement: 'XssMatchStatement', uriPath: 'UriPath', jsonBody: 'JsonBody' };

function apiName(key: string): string {
  return ACRONYMS[key] ?? key.charAt(0).toUpperCase() + key.slice(1);
}
