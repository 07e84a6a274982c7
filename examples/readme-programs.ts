/**
 * Turns the README's code into programs that synthesize, in TypeScript, Python and Java:
 * - the "first stack", written by hand in each language (fenced as `ts nofixture`, `python` and `java`);
 * - every other TypeScript example, as jsii-rosetta translated it (`.jsii.tabl.json`), wrapped in a stack the way
 *   `rosetta/default.ts-fixture` wraps it for the compiler.
 */

/** The README's first stack in each language, and the Java class to run. */
export interface FirstStack {
  readonly typescript: string;
  readonly python: string;
  readonly java: string;
  /** `package.Class` of the Java block. */
  readonly javaClass: string;
}

/** The README's fenced blocks that make up its first stack: the first `ts nofixture`, `python` and `java` ones. */
export function readmeBlocks(readme: string): FirstStack {
  const block = (info: string) => {
    const match = new RegExp('^```' + info + '\\n([\\s\\S]*?)^```$', 'm').exec(readme);
    if (!match) throw new Error(`README.md has no \`\`\`${info} block`);
    return match[1];
  };
  const java = block('java');
  const pkg = /^package ([\w.]+);/m.exec(java)?.[1];
  const cls = /^public class (\w+)/m.exec(java)?.[1];
  if (!pkg || !cls) throw new Error('the README\'s java block must declare a package and a public class');
  return { typescript: block('ts nofixture'), python: block('python'), java, javaClass: `${pkg}.${cls}` };
}

/** Programs in three languages, each synthesizing one stack per README example, and the ids of those stacks. */
export interface SnippetPrograms {
  readonly typescript: string;
  readonly python: string;
  readonly java: string;
  readonly stackIds: string[];
}

interface TabletSnippet {
  readonly translations: Record<string, { readonly source: string }>;
  readonly location: { readonly api: { readonly api: string }; readonly field?: { readonly line?: number } };
}

/**
 * The README examples that run inside the fixture's stack, in their three languages. Complete programs
 * (`nofixture`, recognised by their own imports) are left out: `readmeBlocks` covers the first stack.
 */
export function snippetPrograms(tablet: { snippets: Record<string, TabletSnippet> }): SnippetPrograms {
  const snippets = Object.values(tablet.snippets)
    .filter((s) => s.location.api.api === 'moduleReadme')
    .filter((s) => !/^import /m.test(s.translations.$.source))
    .sort((a, b) => (a.location.field?.line ?? 0) - (b.location.field?.line ?? 0));
  if (snippets.length === 0) throw new Error('.jsii.tabl.json holds no README example');
  const stackIds = snippets.map((_, i) => `ReadmeSnippet${i}`);

  const typescript = [
    "import { App, Duration, Stack } from 'aws-cdk-lib';",
    "import * as ec2 from 'aws-cdk-lib/aws-ec2';",
    "import * as logs from 'aws-cdk-lib/aws-logs';",
    "import * as route53 from 'aws-cdk-lib/aws-route53';",
    "import { Construct } from 'constructs';",
    "import { AuditObjectLockMode, BedrockAudit, BedrockAuditTrail, ExecMode, GatewayAuth, HostIngress, NatStrategy, OpenClawConfig, SecureOpenClawHost, ToolProfile } from 'cdk-openclaw';",
    'void [Duration, ec2, logs, route53, ExecMode, GatewayAuth, HostIngress, NatStrategy, OpenClawConfig, SecureOpenClawHost, ToolProfile];',
    ...snippets.map((s, i) => [
      `class Snippet${i} extends Stack {`,
      '  constructor(scope: Construct, id: string) {',
      '    super(scope, id);',
      indent(s.translations.$.source, 4),
      '  }',
      '}',
    ].join('\n')),
    'const app = new App();',
    ...stackIds.map((id, i) => `new Snippet${i}(app, '${id}');`),
    'app.synth();',
    '',
  ].join('\n');

  const python = [
    'from aws_cdk import App, Duration, Stack',
    'from aws_cdk import aws_ec2 as ec2, aws_logs as logs, aws_route53 as route53',
    'from constructs import Construct',
    'from cdk_openclaw import AuditObjectLockMode, AuditObjectLockOptions, BedrockAudit, BedrockAuditTrail, ExecMode, GatewayAuth, HostIngress, NatStrategy, ModelInvocationLoggingOptions, OpenClawConfig, SecureOpenClawHost, ToolProfile',
    '',
    ...snippets.map((s, i) => [
      `class Snippet${i}(Stack):`,
      '    def __init__(self, scope: Construct, construct_id: str) -> None:',
      '        super().__init__(scope, construct_id)',
      indent(s.translations.python.source, 8),
      '',
    ].join('\n')),
    'app = App()',
    ...stackIds.map((id, i) => `Snippet${i}(app, "${id}")`),
    'app.synth()',
    '',
  ].join('\n');

  const java = [
    'package readme;',
    '',
    'import io.github.cdkopenclaw.*;',
    'import java.util.List;',
    'import software.amazon.awscdk.*;',
    'import software.amazon.awscdk.services.ec2.*;',
    'import software.amazon.awscdk.services.logs.*;',
    'import software.amazon.awscdk.services.route53.*;',
    'import software.constructs.Construct;',
    '',
    'public class Snippets {',
    ...snippets.map((s, i) => [
      `    static class Snippet${i} extends Stack {`,
      `        Snippet${i}(final Construct scope, final String id) {`,
      '            super(scope, id);',
      indent(s.translations.java.source, 12),
      '        }',
      '    }',
    ].join('\n')),
    '    public static void main(final String[] args) {',
    '        App app = new App();',
    ...stackIds.map((id, i) => `        new Snippet${i}(app, "${id}");`),
    '        app.synth();',
    '    }',
    '}',
    '',
  ].join('\n');

  return { typescript, python, java, stackIds };
}

function indent(source: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return source.trimEnd().split('\n').map((line) => (line.length > 0 ? pad + line : line)).join('\n');
}
