import { createHash, createHmac } from 'crypto';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SecureOpenClawHost, SecureOpenClawHostProps } from '../src';

/** A fresh app that does not copy assets around on every synth. */
export function testApp(): App {
  return new App({ context: { 'aws:cdk:disable-asset-staging': true } });
}

/** A stack with one host, its template, and the user data as text (each token shown as `${TOKEN}`). */
export function synthHost(props?: SecureOpenClawHostProps, build?: (stack: Stack) => SecureOpenClawHostProps) {
  const app = testApp();
  const stack = new Stack(app, 'Test');
  const host = new SecureOpenClawHost(stack, 'Host', build ? build(stack) : props);
  const template = Template.fromStack(stack);
  return { app, stack, host, template, json: template.toJSON(), userData: userDataText(template) };
}

/** The instance's user data with every CloudFormation token replaced by `${TOKEN}`. */
export function userDataText(template: Template): string {
  const instances = template.findResources('AWS::EC2::Instance');
  const host = Object.values(instances).find((r: any) => JSON.stringify(r.Properties.UserData ?? '').includes('openclaw'));
  if (!host) throw new Error('no OpenClaw instance in the template');
  const joined = host.Properties.UserData['Fn::Base64'];
  const parts: any[] = typeof joined === 'string' ? [joined] : joined['Fn::Join'][1];
  return parts.map((p) => (typeof p === 'string' ? p : '${TOKEN}')).join('');
}

/** The openclaw.json the setup script writes, parsed (tokens shown as `${TOKEN}`). */
export function renderedConfig(userData: string): any {
  const match = /<<'OPENCLAW_CONFIG_EOF'\n([\s\S]*?)\nOPENCLAW_CONFIG_EOF/.exec(userData);
  if (!match) throw new Error('no openclaw.json in the user data');
  return JSON.parse(match[1]);
}

/** Every resource of a type, as [logicalId, resource] pairs. */
export function resourcesOf(template: Template, type: string): Array<[string, any]> {
  return Object.entries(template.findResources(type));
}

/** Every ingress rule of a security group, inline or as a separate resource referring to it by `GroupId`. */
export function ingressRulesOf(template: Template, groupLogicalId: string): any[] {
  const group = template.toJSON().Resources[groupLogicalId];
  const inline = group.Properties.SecurityGroupIngress ?? [];
  const separate = resourcesOf(template, 'AWS::EC2::SecurityGroupIngress')
    .map(([, r]) => r.Properties)
    .filter((p) => JSON.stringify(p.GroupId).includes(`"${groupLogicalId}"`));
  return [...inline, ...separate];
}

/** SHA-256 and HMAC-SHA-256 from node:crypto in the shape @smithy/signature-v4 takes as its `sha256`. */
export class NodeSha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | Uint8Array) { this.h = secret ? createHmac('sha256', secret as any) : createHash('sha256'); }
  update(data: string | Uint8Array) { this.h.update(data as any); }
  async digest() { return new Uint8Array(this.h.digest()); }
  reset() { /* not used */ }
}
