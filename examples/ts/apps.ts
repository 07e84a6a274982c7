import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AlbCognitoStack } from './alb-cognito';
import { BudgetHostStack } from './budget';
import { SingleHostStack } from './single-host';

/** A reference app: the stack class and the id it is deployed under (the same in every language). */
export interface ReferenceApp {
  readonly name: string;
  readonly stackId: string;
  readonly create: (scope: Construct, id: string, props?: StackProps) => Stack;
}

/** Every reference app in examples/ts. */
export const REFERENCE_APPS: ReferenceApp[] = [
  { name: 'single-host', stackId: 'OpenClawSingleHost', create: (s, id, p) => new SingleHostStack(s, id, p) },
  { name: 'alb-cognito', stackId: 'OpenClawAlbCognito', create: (s, id, p) => new AlbCognitoStack(s, id, p) },
  { name: 'budget', stackId: 'OpenClawBudgetHost', create: (s, id, p) => new BudgetHostStack(s, id, p) },
];
