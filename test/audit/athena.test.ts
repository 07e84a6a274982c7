import { readFileSync } from 'fs';
import { join } from 'path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BedrockAuditTrail, BedrockAuditTrailProps } from '../../src';
import { CLOUDTRAIL_COLUMNS, PARTITION_COLUMNS, auditQueries, unexpectedCallersQuery } from '../../src/audit/athena';
import { resourcesOf, testApp } from '../util';

/** A Hive type, parsed: struct fields, array element, map value, or a primitive. */
type HiveType = { kind: 'struct'; fields: Record<string, HiveType> } | { kind: 'array'; of: HiveType } | { kind: 'map'; of: HiveType } | { kind: 'primitive'; name: string };

function parseType(text: string): HiveType {
  let i = 0;
  const ident = () => { const m = /^[a-z0-9_]+/.exec(text.slice(i))!; i += m[0].length; return m[0]; };
  const expect = (c: string) => { if (text[i] !== c) throw new Error(`expected ${c} at ${i} in ${text}`); i++; };
  const type = (): HiveType => {
    const name = ident();
    if (name === 'struct') {
      expect('<');
      const fields: Record<string, HiveType> = {};
      for (;;) { const f = ident(); expect(':'); fields[f] = type(); if (text[i] === ',') { i++; continue; } break; }
      expect('>');
      return { kind: 'struct', fields };
    }
    if (name === 'array') { expect('<'); const of = type(); expect('>'); return { kind: 'array', of }; }
    if (name === 'map') { expect('<'); type(); expect(','); const of = type(); expect('>'); return { kind: 'map', of }; }
    return { kind: 'primitive', name };
  };
  const t = type();
  if (i !== text.length) throw new Error(`trailing text in ${text}`);
  return t;
}

const columns: Record<string, HiveType> = Object.fromEntries([...CLOUDTRAIL_COLUMNS, ...PARTITION_COLUMNS].map((c) => [c.name, parseType(c.type)]));

/** Fields of a record the table does not map on purpose (the AWS table for CloudTrail omits them too). */
const UNMAPPED = new Set(['managementevent']);

/** Every field of `value` has a place in `type`, the way the JSON SerDe maps it (case-insensitive names). */
function unmapped(value: any, type: HiveType, path: string): string[] {
  if (value === null || value === undefined) return [];
  if (type.kind === 'primitive') return type.name === 'string' || typeof value !== 'object' ? [] : [`${path}: object for ${type.name}`];
  if (type.kind === 'array') return Array.isArray(value) ? value.flatMap((v, i) => unmapped(v, type.of, `${path}[${i}]`)) : [`${path}: not an array`];
  if (type.kind === 'map') return Object.entries(value).flatMap(([k, v]) => unmapped(v, type.of, `${path}.${k}`));
  return Object.entries(value).flatMap(([k, v]) => {
    const field = type.fields[k.toLowerCase()];
    return field ? unmapped(v, field, `${path}.${k}`) : [`${path}.${k}`];
  });
}

function resolvePath(path: string): boolean {
  const [head, ...rest] = path.split('.');
  let type: HiveType | undefined = columns[head];
  for (const part of rest) type = type?.kind === 'struct' ? type.fields[part] : undefined;
  return type !== undefined;
}

const SQL_WORDS = new Set(['select', 'as', 'from', 'where', 'and', 'or', 'in', 'not', 'group', 'by', 'order', 'desc', 'asc', 'distinct', 'interval', 'day', 'current_date', 'null']);

/**
 * The column references of a query: identifiers that are not keywords, functions, aliases or literals. Table
 * aliases (`FROM {table} c`) are stripped from references; names a query defines (`AS x`, `WITH x AS`, `AS t(x)`)
 * are not columns.
 */
function columnReferences(sql: string): string[] {
  const tableAliases = new Set([...sql.matchAll(/\b(?:FROM|JOIN)\s+(?:\{table\}|[a-z_]+)\s+([a-z])\b/g)].map((m) => m[1]));
  const text = sql.replace(/\{table\}/g, ' ').replace(/'[^']*'/g, "''").replace(/"([a-z_]+)"\."([a-z_]+)"/g, ' ').replace(/"timestamp"/g, 'timestamp');
  const defined = new Set([
    ...[...text.matchAll(/\bAS\s+([a-z_]+)/gi)].map((m) => m[1].toLowerCase()),
    ...[...text.matchAll(/\bWITH\s+([a-z_]+)\s+AS\b/gi)].map((m) => m[1]),
    ...[...text.matchAll(/\bAS\s+[a-z_]+\(([a-z_]+)\)/gi)].map((m) => m[1]),
  ]);
  return [...text.matchAll(/\b([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\b(\s*\()?/gi)]
    .filter((m) => !m[2]) // a function call
    .map((m) => m[1])
    .filter((id) => id === id.toLowerCase())
    .map((id) => (tableAliases.has(id.split('.')[0]) && id.includes('.') ? id.slice(2) : id))
    .filter((id) => !SQL_WORDS.has(id) && !defined.has(id) && !tableAliases.has(id) && !/^\d/.test(id));
}

/** A JSON path of the query (`'$.a.b'`) applied to a record's field, as json_extract_scalar does. */
function jsonPath(value: any, path: string): any {
  return path.replace(/^\$\./, '').split('.').reduce((v, key) => (v == null ? undefined : v[key]), value);
}

describe('the Athena table over the trail', () => {
  const records = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'bedrock-records.json'), 'utf8')).Records;

  test('every column type parses', () => {
    expect(Object.keys(columns)).toHaveLength(CLOUDTRAIL_COLUMNS.length + PARTITION_COLUMNS.length);
  });

  test('every field of real-format Bedrock records (a model call, a denied call) maps to a column', () => {
    for (const record of records) {
      const missing = Object.entries(record).flatMap(([k, v]) =>
        UNMAPPED.has(k.toLowerCase()) ? [] : columns[k.toLowerCase()] ? unmapped(v, columns[k.toLowerCase()], k) : [k]);
      expect(missing).toEqual([]);
    }
  });

  test.each([...auditQueries(), unexpectedCallersQuery(['arn:aws:iam::111122223333:role/OpenClawHostRole'])].map((q) => [q.name, q] as const))(
    'the saved query %s references only existing columns, filters on Bedrock and on the date partition', (_name, query) => {
      const refs = columnReferences(query.sql);
      expect(refs.length).toBeGreaterThan(2);
      for (const ref of refs) expect([ref, resolvePath(ref)]).toEqual([ref, true]);
      expect(query.sql).toContain("eventsource IN ('bedrock.amazonaws.com', 'bedrock-mantle.amazonaws.com')");
      expect(query.sql).toContain('"timestamp" >=');
    });

  test('the per-namespace query finds a pod\'s namespace: its JSON paths join a Bedrock call to the Pod Identity AssumeRole of its session', () => {
    const query = auditQueries().find((q) => q.id === 'CallsPerNamespace')!;
    const paths = [...query.sql.matchAll(/json_extract(?:_scalar)?\((?:c\.)?([a-z]+), '(\$\.[A-Za-z.]+)'\)/g)].map((m) => ({ column: m[1], path: m[2] }));
    const sessionPath = paths.find((p) => p.column === 'responseelements')!.path;
    const tagsPath = paths.find((p) => p.column === 'requestparameters' && p.path.endsWith('tags'))!.path;
    const keyPath = paths.find((p) => p.column === 'tag' && query.sql.includes(`'${p.path}') = 'kubernetes-namespace'`))!.path;
    const valuePath = paths.find((p) => p.column === 'tag' && p.path !== keyPath)!.path;
    const podSessions = records
      .filter((r: any) => r.eventSource === 'sts.amazonaws.com' && r.eventName === 'AssumeRole' && r.userIdentity.invokedBy === 'pods.eks.amazonaws.com')
      .flatMap((r: any) => (jsonPath(r.requestParameters, tagsPath) as any[])
        .filter((tag) => jsonPath(tag, keyPath) === 'kubernetes-namespace')
        .map((tag) => ({ session: jsonPath(r.responseElements, sessionPath), namespace: jsonPath(tag, valuePath) })));
    const calls = records.filter((r: any) => r.eventSource === 'bedrock.amazonaws.com')
      .map((r: any) => ({ call: r.eventName, namespace: podSessions.find((s: any) => s.session === r.userIdentity.arn)?.namespace }));
    // The host's call has no pod session; the tenant's call is attributed to its namespace.
    expect(calls).toEqual(expect.arrayContaining([{ call: 'Converse', namespace: 'openclaw-acme' }, { call: 'ConverseStream', namespace: undefined }]));
  });

  test('the column-reference check catches a misspelt column', () => {
    expect(columnReferences('SELECT useridentity.arnn, eventsorce FROM {table}').filter((r) => !resolvePath(r))).toEqual(['useridentity.arnn', 'eventsorce']);
  });
});

function synth(props?: BedrockAuditTrailProps) {
  const stack = new Stack(testApp(), 'Test');
  new BedrockAuditTrail(stack, 'Audit', props);
  return Template.fromStack(stack);
}

describe('BedrockAuditTrail Athena resources', () => {
  const template = synth();

  test('a CloudTrail table: JSON SerDe, CloudTrail input format, region and date projected from the object keys', () => {
    const [, table] = resourcesOf(template, 'AWS::Glue::Table')[0];
    const input = table.Properties.TableInput;
    expect(input.StorageDescriptor).toEqual(expect.objectContaining({
      InputFormat: 'com.amazon.emr.cloudtrail.CloudTrailInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe' },
    }));
    expect(input.StorageDescriptor.Columns.map((c: any) => c.Name)).toEqual(CLOUDTRAIL_COLUMNS.map((c) => c.name));
    expect(input.PartitionKeys).toEqual([{ Name: 'region', Type: 'string' }, { Name: 'timestamp', Type: 'string' }]);
    expect(input.Parameters).toEqual(expect.objectContaining({
      'projection.enabled': 'true',
      'projection.timestamp.type': 'date',
      'projection.timestamp.format': 'yyyy/MM/dd',
      'projection.region.type': 'enum',
    }));
    expect(input.Parameters['projection.region.values'].split(',')).toEqual(expect.arrayContaining(['us-east-1', 'eu-west-1']));
    expect(JSON.stringify(input.Parameters['storage.location.template'])).toMatch(/\/AWSLogs\/".*"\/CloudTrail\/\$\{region\}\/\$\{timestamp\}/);
  });

  test('a workgroup that enforces SSE-KMS results in its own bucket and a 10 GiB scan limit per query', () => {
    const [, wg] = resourcesOf(template, 'AWS::Athena::WorkGroup')[0];
    const config = wg.Properties.WorkGroupConfiguration;
    expect(config.EnforceWorkGroupConfiguration).toBe(true);
    expect(config.BytesScannedCutoffPerQuery).toBe(10737418240);
    expect(config.ResultConfiguration.EncryptionConfiguration).toEqual({ EncryptionOption: 'SSE_KMS', KmsKey: { 'Fn::GetAtt': [expect.stringMatching(/^AuditKey/), 'Arn'] } });
    expect(JSON.stringify(config.ResultConfiguration.OutputLocation)).toContain('AuditResults');
  });

  test('five saved queries by default, a sixth with expectedRoleArns, each in the workgroup and database', () => {
    const queries = resourcesOf(template, 'AWS::Athena::NamedQuery').map(([, q]) => q.Properties);
    expect(queries.map((q) => q.Name).sort()).toEqual([
      'bedrock-calling-roles', 'bedrock-denied-calls', 'bedrock-model-calls-per-kubernetes-namespace', 'bedrock-model-calls-per-model', 'bedrock-model-calls-per-principal-per-day',
    ]);
    for (const q of queries) expect(q.QueryString).toContain('."cloudtrail"');
    const more = resourcesOf(synth({ expectedRoleArns: ['arn:aws:iam::111122223333:role/OpenClawHostRole'] }), 'AWS::Athena::NamedQuery');
    expect(more).toHaveLength(6);
  });

  test.each<[string, BedrockAuditTrailProps, RegExp]>([
    ['a database name Glue refuses', { databaseName: 'Bedrock-Audit' }, /databaseName must be lower-case letters, digits and underscores \(1-255\), got 'Bedrock-Audit'/],
    ['a table name Glue refuses', { tableName: 'cloud trail' }, /tableName must be lower-case letters, digits and underscores/],
    ['a workgroup name Athena refuses', { workGroupName: 'bedrock audit' }, /workGroupName must be letters, digits, periods, hyphens and underscores \(1-128\), got 'bedrock audit'/],
    ['a scan limit under Athena\'s minimum', { bytesScannedCutoffPerQuery: 1000 }, /bytesScannedCutoffPerQuery must be a whole number of bytes, at least 10000000/],
    ['a region that is not a region code', { regions: ['Ireland'] }, /regions must be region codes such as us-east-1, got 'Ireland'/],
  ])('%s fails at synth', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('BedrockAuditTrail.grantQuery', () => {
  test('an analyst role gets Athena on the workgroup, Glue on the database and table, the log files, the results and the key', () => {
    const stack = new Stack(testApp(), 'Test');
    const audit = new BedrockAuditTrail(stack, 'Audit');
    const role = new iam.Role(stack, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() });
    audit.grantQuery(role);
    const statements = resourcesOf(Template.fromStack(stack), 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const text = JSON.stringify(statements);
    expect(text).toContain('athena:StartQueryExecution');
    expect(text).toContain(':workgroup/');
    expect(text).toContain('glue:GetPartitions');
    expect(text).toContain(`:table/${audit.databaseName}/cloudtrail`);
    expect(text).toContain('kms:Decrypt');
    expect(text).toMatch(/AuditBucket[0-9A-F]{8}/);
    expect(text).toMatch(/AuditResults[0-9A-F]{8}/);
    // Reading the trail never includes writing to it.
    const onLogs = statements.filter((s: any) => JSON.stringify(s.Resource).match(/AuditBucket[0-9A-F]{8}/));
    expect(JSON.stringify(onLogs.map((s: any) => s.Action))).not.toMatch(/s3:PutObject|s3:DeleteObject/);
  });
});
