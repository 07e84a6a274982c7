import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AlbCognitoStack } from './alb-cognito';
import { BudgetHostStack } from './budget';
import { CloudFrontHostStack } from './cloudfront';
import { SingleHostStack } from './single-host';
import { TenantPlatformStack } from './tenant-platform';

/** A reference app: the stack class and the id it is deployed under (the same in every language). */
export interface ReferenceApp {
  readonly name: string;
  readonly stackId: string;
  readonly create: (scope: Construct, id: string, props?: StackProps) => Stack;
  /** The same app in examples/python (a file that synthesizes it when run). */
  readonly pythonFile: string;
  /** The same app in examples/java (a stack class with a main method, package io.github.cdkopenclaw.examples). */
  readonly javaClass: string;
  /** Context the languages are compared under (e.g. a published kubectl layer, which Java must be given). */
  readonly bindingsContext?: Record<string, string>;
}

/** Every reference app in examples/ts. */
export const REFERENCE_APPS: ReferenceApp[] = [
  {
    name: 'single-host',
    stackId: 'OpenClawSingleHost',
    create: (s, id, p) => new SingleHostStack(s, id, p),
    pythonFile: 'single_host.py',
    javaClass: 'SingleHostStack',
  },
  {
    name: 'alb-cognito',
    stackId: 'OpenClawAlbCognito',
    create: (s, id, p) => new AlbCognitoStack(s, id, p),
    pythonFile: 'alb_cognito.py',
    javaClass: 'AlbCognitoStack',
  },
  {
    name: 'cloudfront',
    stackId: 'OpenClawCloudFrontHost',
    create: (s, id, p) => new CloudFrontHostStack(s, id, p),
    pythonFile: 'cloudfront_host.py',
    javaClass: 'CloudFrontHostStack',
  },
  {
    name: 'budget',
    stackId: 'OpenClawBudgetHost',
    create: (s, id, p) => new BudgetHostStack(s, id, p),
    pythonFile: 'budget.py',
    javaClass: 'BudgetHostStack',
  },
  {
    name: 'tenant-platform',
    stackId: 'OpenClawTenantPlatform',
    create: (s, id, p) => new TenantPlatformStack(s, id, p),
    pythonFile: 'tenant_platform.py',
    javaClass: 'TenantPlatformStack',
    bindingsContext: { kubectlLayerArn: 'arn:aws:lambda:us-east-1:111122223333:layer:kubectl-v35:1' },
  },
];
