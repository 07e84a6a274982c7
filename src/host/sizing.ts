import { Size, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { invalidProp } from '../core/validation';

const INSTANCE_TYPE = /^([a-z][a-z0-9-]*)\.(nano|micro|small|medium|large|xlarge|[1-9]\d*xlarge|metal|metal-[1-9]\d*xl)$/;
const TOO_SMALL = new Set(['nano', 'micro']);

/** The smallest root volume that holds the OS, Node.js, OpenClaw and its logs. */
export const MIN_ROOT_VOLUME_GIB = 8;
export const MAX_ROOT_VOLUME_GIB = 16384;

/**
 * Fails for an instance type that is not of the form `family.size`, or one with less than 2 GiB of memory:
 * OpenClaw's gateway and its `npm install` need at least that.
 */
export function checkInstanceType(scope: Construct, instanceType: ec2.InstanceType): void {
  const name = instanceType.toString();
  if (Token.isUnresolved(name)) return;
  const match = INSTANCE_TYPE.exec(name);
  if (!match) {
    invalidProp(scope, 'instanceType', name, 'an EC2 instance type of the form family.size, such as t3.small or m7g.large');
  }
  if (TOO_SMALL.has(match[2])) {
    invalidProp(scope, 'instanceType', name, 'an instance with at least 2 GiB of memory (size small or larger): OpenClaw and its npm install run out of memory on nano and micro');
  }
}

/** Fails for a root volume below 8 GiB or above the gp3 maximum. */
export function checkRootVolumeSize(scope: Construct, size: Size): number {
  let gib: number;
  try {
    gib = size.toGibibytes();
  } catch {
    return invalidProp(scope, 'rootVolumeSize', size.toString(), `a whole number of GiB from ${MIN_ROOT_VOLUME_GIB} to ${MAX_ROOT_VOLUME_GIB}`);
  }
  if (Token.isUnresolved(gib)) return gib;
  if (!Number.isInteger(gib) || gib < MIN_ROOT_VOLUME_GIB || gib > MAX_ROOT_VOLUME_GIB) {
    invalidProp(scope, 'rootVolumeSize', `${gib} GiB`, `a whole number of GiB from ${MIN_ROOT_VOLUME_GIB} to ${MAX_ROOT_VOLUME_GIB}`);
  }
  return gib;
}
