import { readFileSync } from 'fs';
import { join } from 'path';
import { readmeBlocks, snippetPrograms } from '../../examples/readme-programs';
import { normalizeTemplate, templateDifferences } from '../../examples/template-compare';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

describe('the template comparison test:bindings relies on', () => {
  const template = {
    Resources: {
      Key: { Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } },
      Sg: { Type: 'AWS::EC2::SecurityGroup', Properties: { SecurityGroupEgress: [{ FromPort: 443 }] } },
    },
  };

  test('finds no difference between equal templates', () => {
    expect(templateDifferences(template, normalizeTemplate(template))).toEqual([]);
  });

  test('reports a changed value, a missing and an extra key, and a changed list, each with its path', () => {
    const changed = JSON.parse(JSON.stringify(template));
    changed.Resources.Key.Properties.EnableKeyRotation = false;
    delete changed.Resources.Sg.Properties.SecurityGroupEgress;
    changed.Resources.Sg.Properties.SecurityGroupIngress = [{ FromPort: 22 }];
    expect(templateDifferences(template, changed)).toEqual([
      '$.Resources.Key.Properties.EnableKeyRotation: expected true, got false',
      '$.Resources.Sg.Properties.SecurityGroupEgress: missing',
      '$.Resources.Sg.Properties.SecurityGroupIngress: unexpected [{"FromPort":22}]',
    ]);
    const longer = JSON.parse(JSON.stringify(template));
    longer.Resources.Sg.Properties.SecurityGroupEgress.push({ FromPort: 80 });
    expect(templateDifferences(template, longer)).toEqual(['$.Resources.Sg.Properties.SecurityGroupEgress: 1 items, got 2']);
  });

  test('removes nothing: every value takes part in the comparison', () => {
    expect(normalizeTemplate(template)).toEqual(template);
  });
});

describe('the README programs test:bindings runs', () => {
  test('the first stack exists in TypeScript, Python and Java, with the same stack and construct ids', () => {
    const blocks = readmeBlocks(readme);
    expect(blocks.typescript).toContain("new Stack(app, 'MyOpenClaw')");
    expect(blocks.python).toContain('Stack(app, "MyOpenClaw")');
    expect(blocks.java).toContain('new Stack(app, "MyOpenClaw")');
    for (const code of [blocks.typescript, blocks.python, blocks.java]) expect(code).toMatch(/['"]OpenClaw['"]/);
    expect(blocks.javaClass).toBe('com.myorg.MyOpenClawApp');
  });

  test('every fixture example of the README becomes one stack in each language', () => {
    const fenced = (readme.match(/^```ts$/gm) ?? []).length;
    const snippets: Record<string, any> = {};
    for (let i = 0; i < fenced; i++) {
      snippets[`s${i}`] = {
        location: { api: { api: 'moduleReadme' }, field: { line: fenced - i } },
        translations: { $: { source: `new X${i}();` }, python: { source: `X${i}()` }, java: { source: `new X${i}();` } },
      };
    }
    const programs = snippetPrograms({ snippets });
    expect(programs.stackIds).toHaveLength(fenced);
    expect(fenced).toBeGreaterThanOrEqual(4);
    // Ordered by their line in the README, whatever the tablet's order.
    expect(programs.python.indexOf(`X${fenced - 1}()`)).toBeLessThan(programs.python.indexOf('X0()'));
    for (const id of programs.stackIds) {
      expect(programs.typescript).toContain(`'${id}'`);
      expect(programs.python).toContain(`"${id}"`);
      expect(programs.java).toContain(`"${id}"`);
    }
  });
});
