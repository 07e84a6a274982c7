import { Stack } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { INLINE_POLICY_RULES, acknowledge, acknowledgeSdkCallFunction } from '../core/nag';

/** The name of CloudFront's origin-facing managed prefix list: the same in every region, its id is not. */
export const ORIGIN_FACING_PREFIX_LIST = 'com.amazonaws.global.cloudfront.origin-facing';

const ID = 'CloudFrontOriginFacingPrefixList';

/**
 * The id of CloudFront's origin-facing prefix list in the stack's region, looked up by name at deploy time (one
 * lookup per stack), so a template works in every region and never carries a literal pl- id.
 * @internal
 */
export function originFacingPrefixListId(scope: Construct): string {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(ID) as cr.AwsCustomResource | undefined;
  const lookup = existing ?? createLookup(stack);
  return lookup.getResponseField('PrefixLists.0.PrefixListId');
}

function createLookup(stack: Stack): cr.AwsCustomResource {
  const call: cr.AwsSdkCall = {
    service: '@aws-sdk/client-ec2',
    action: 'DescribeManagedPrefixLists',
    parameters: { Filters: [{ Name: 'prefix-list-name', Values: [ORIGIN_FACING_PREFIX_LIST] }] },
    physicalResourceId: cr.PhysicalResourceId.of(ORIGIN_FACING_PREFIX_LIST),
    outputPaths: ['PrefixLists.0.PrefixListId'],
  };
  const lookup = new cr.AwsCustomResource(stack, ID, {
    resourceType: 'Custom::CloudFrontOriginFacingPrefixList',
    onCreate: call,
    onUpdate: call,
    installLatestAwsSdk: false,
    policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
  });
  acknowledge(lookup.node.findChild('CustomResourcePolicy'), ['AwsSolutions-IAM5[Resource::*]'],
    'ec2:DescribeManagedPrefixLists is a read-only call without resource-level permissions.');
  acknowledge(lookup.node.findChild('CustomResourcePolicy'), INLINE_POLICY_RULES,
    'The lookup\'s own read-only policy: it exists for this call and is removed with it.');
  acknowledgeSdkCallFunction(lookup);
  return lookup;
}
