import { FakeBudgetAws, FakeBudgetDynamoDB, FakeIam, FakeLogs, FakeSns, Item, applyUpdate, emptyBlockDocument, evaluateCondition, invocationRecord } from './fake-budget-aws';

// The fakes are trusted by the budget function's tests: these show they answer as the services do and refuse what
// they do not model.

describe('the DynamoDB fake', () => {
  const item: Item = { pk: { S: 'p' }, sk: { S: 's' }, n: { N: '5' }, tags: { SS: ['80'] }, m: { M: { from: { N: '10' } } } };

  test('evaluates comparisons, nested paths, contains on sets, attribute_(not_)exists, NOT, AND and OR', () => {
    const names = { '#n': 'n', '#m': 'm', '#from': 'from', '#tags': 'tags', '#x': 'x' };
    const values = { ':five': { N: '5' }, ':ten': { N: '10' }, ':t': { S: '80' }, ':u': { S: '100' } };
    const check = (expression: string) => {
      const used = (e: string, o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => e.includes(k)));
      return evaluateCondition(expression, item, used(expression, names) as any, used(expression, values) as any);
    };
    expect(check('#n <= :five AND #m.#from = :ten')).toBe(true);
    expect(check('#n < :five OR attribute_not_exists(#x)')).toBe(true);
    expect(check('contains(#tags, :t) AND NOT contains(#tags, :u)')).toBe(true);
    expect(check('attribute_exists(#m.#from) AND NOT (#n = :ten)')).toBe(true);
    expect(check('#x <= :five')).toBe(false);
    expect(evaluateCondition('NOT contains(#tags, :t)', undefined, { '#tags': 'tags' }, { ':t': { S: '80' } })).toBe(true);
  });

  test('applies SET, ADD to numbers and string sets, REMOVE and DELETE (an emptied set disappears)', () => {
    const after = applyUpdate('ADD #n :two, #tags :more, #new :one SET #m = :map REMOVE #gone DELETE #old :old', {
      ...item, gone: { S: 'x' }, old: { SS: ['a'] },
    }, { pk: { S: 'p' }, sk: { S: 's' } }, { '#n': 'n', '#tags': 'tags', '#new': 'new', '#m': 'm', '#gone': 'gone', '#old': 'old' }, {
      ':two': { N: '2' }, ':more': { SS: ['100', '80'] }, ':one': { N: '1' }, ':map': { M: { to: { N: '1' } } }, ':old': { SS: ['a'] },
    });
    expect(after).toEqual({ pk: { S: 'p' }, sk: { S: 's' }, n: { N: '7' }, tags: { SS: ['80', '100'] }, new: { N: '1' }, m: { M: { to: { N: '1' } } } });
  });

  test.each<[string, () => unknown, RegExp]>([
    ['an unused name placeholder', () => new FakeBudgetDynamoDB(['t']).updateItem({
      TableName: 't', Key: { pk: { S: 'p' }, sk: { S: 's' } }, UpdateExpression: 'SET #a = :v', ExpressionAttributeNames: { '#a': 'a', '#b': 'b' }, ExpressionAttributeValues: { ':v': { N: '1' } },
    }), /unused in expressions/],
    ['a bare attribute name', () => applyUpdate('SET a = :v', undefined, {}, {}, { ':v': { N: '1' } }), /Invalid expression/],
    ['a function it does not model', () => evaluateCondition('begins_with(#a, :v)', {}, { '#a': 'a' }, { ':v': { S: 'x' } }), /Invalid expression/],
    ['overlapping paths', () => applyUpdate('ADD #a :v, #b :v', undefined, {}, { '#a': 'x', '#b': 'x' }, { ':v': { N: '1' } }), /Two document paths overlap/],
    ['ADD of a number to a string', () => applyUpdate('ADD #a :v', { x: { S: 's' } }, {}, { '#a': 'x' }, { ':v': { N: '1' } }), /incorrect data type/],
    ['ADD of a fraction', () => applyUpdate('ADD #a :v', undefined, {}, { '#a': 'x' }, { ':v': { N: '1.5' } }), /whole numbers only/],
    ['a key attribute in an update', () => applyUpdate('SET #a = :v', undefined, {}, { '#a': 'pk' }, { ':v': { N: '1' } }), /part of the key/],
    ['a key without the sort key', () => new FakeBudgetDynamoDB(['t']).getItem({ TableName: 't', Key: { pk: { S: 'p' } } }), /does not match the schema/],
    ['an unknown table', () => new FakeBudgetDynamoDB(['t']).getItem({ TableName: 'u', Key: { pk: { S: 'p' }, sk: { S: 's' } } }), /not found/],
    ['a Query with a filter', () => new FakeBudgetDynamoDB(['t']).query({
      TableName: 't', KeyConditionExpression: '#pk = :pk', FilterExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': 'pk' }, ExpressionAttributeValues: { ':pk': { S: 'p' } },
    }), /does not model FilterExpression/],
  ])('refuses %s', (_name, call, message) => {
    expect(call).toThrow(message);
  });

  test('a failed condition writes nothing and throws ConditionalCheckFailedException', () => {
    const db = new FakeBudgetDynamoDB(['t']);
    db.put('t', item);
    expect(() => db.updateItem({
      TableName: 't',
      Key: { pk: { S: 'p' }, sk: { S: 's' } },
      UpdateExpression: 'ADD #n :v',
      ConditionExpression: '#n = :v',
      ExpressionAttributeNames: { '#n': 'n' },
      ExpressionAttributeValues: { ':v': { N: '1' } },
    })).toThrow(expect.objectContaining({ name: 'ConditionalCheckFailedException' }));
    expect(db.item('t', 'p', 's')).toEqual(item);
  });

  test('Query returns a partition in sort key order, projected, in pages that resume after the last key', () => {
    const db = new FakeBudgetDynamoDB(['t']);
    for (const sk of ['c', 'a', 'b']) db.put('t', { pk: { S: 'p' }, sk: { S: sk }, v: { N: '1' }, w: { S: 'x' } });
    db.put('t', { pk: { S: 'q' }, sk: { S: 'a' } });
    const query = (start?: Item) => db.query({
      TableName: 't',
      KeyConditionExpression: '#pk = :pk',
      ProjectionExpression: '#sk, #v',
      Limit: 2,
      ExclusiveStartKey: start,
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#v': 'v' },
      ExpressionAttributeValues: { ':pk': { S: 'p' } },
    });
    const first = query();
    expect(first.Items).toEqual([{ sk: { S: 'a' }, v: { N: '1' } }, { sk: { S: 'b' }, v: { N: '1' } }]);
    const second = query(first.LastEvaluatedKey);
    expect(second.Items).toEqual([{ sk: { S: 'c' }, v: { N: '1' } }]);
    expect(second.LastEvaluatedKey).toBeUndefined();
  });
});

describe('the Logs Insights fake', () => {
  const ROLE = 'BedrockRole';
  const query = (filters = '') => [
    'filter schemaType = "ModelInvocationLog" and @timestamp >= fromMillis(60000) and @timestamp < fromMillis(120000)',
    `| parse identity.arn /^arn:aws:sts::\\d{12}:assumed-role\\/(?<callerRole>[^\\/]+)\\/(?<tenant>[^\\/]+)$/${filters}`,
    `| filter callerRole = "${ROLE}"`,
    '| stats sum(input.inputTokenCount) as inputTokens, sum(input.cacheReadInputTokenCount) as cacheReadTokens, count(*) as calls by tenant, modelId',
    '| limit 10',
  ].join('\n');

  function logs() {
    const l = new FakeLogs('g');
    const add = (ms: number, caller: string, input: number, cacheRead?: number) => l.add(invocationRecord({ at: ms, caller, modelId: 'm', input, output: 0, cacheRead }), ms);
    add(59_999, `arn:aws:sts::111122223333:assumed-role/${ROLE}/a`, 1);
    add(60_000, `arn:aws:sts::111122223333:assumed-role/${ROLE}/a`, 10);
    add(119_999, `arn:aws:sts::111122223333:assumed-role/${ROLE}/a`, 100, 5);
    add(120_000, `arn:aws:sts::111122223333:assumed-role/${ROLE}/a`, 1000);
    add(90_000, `arn:aws:sts::111122223333:assumed-role/${ROLE}/b`, 7);
    add(90_000, `arn:aws:sts::111122223333:assumed-role/Other${ROLE}/c`, 7);
    add(90_000, `arn:aws:iam::111122223333:user/assumed-role/${ROLE}/d`, 7);
    return l;
  }

  test('runs the query text: the window [from, to), the role, the groups, missing sums left out', () => {
    const l = logs();
    const { queryId } = l.startQuery({ logGroupName: 'g', startTime: 0, endTime: 200, queryString: query() });
    expect(l.getQueryResults({ queryId }).results).toEqual([
      [{ field: 'tenant', value: 'a' }, { field: 'modelId', value: 'm' }, { field: 'inputTokens', value: '110' }, { field: 'cacheReadTokens', value: '5' }, { field: 'calls', value: '2' }],
      [{ field: 'tenant', value: 'b' }, { field: 'modelId', value: 'm' }, { field: 'inputTokens', value: '7' }, { field: 'calls', value: '1' }],
    ]);
  });

  test('a like filter keeps the tenants ending in its characters; StartQuery\'s seconds bound the events too', () => {
    const l = logs();
    const { queryId } = l.startQuery({ logGroupName: 'g', startTime: 0, endTime: 200, queryString: query('\n| filter tenant like /[b]$/') });
    expect(l.getQueryResults({ queryId }).results?.map((r) => r[0].value)).toEqual(['b']);
    const early = l.startQuery({ logGroupName: 'g', startTime: 0, endTime: 89, queryString: query() });
    expect(l.getQueryResults(early).results?.map((r) => r[0].value)).toEqual(['a']);
  });

  test.each<[string, Parameters<FakeLogs['startQuery']>[0], RegExp]>([
    ['another log group', { logGroupName: 'h', startTime: 0, endTime: 1, queryString: query() }, /does not exist/],
    ['milliseconds for seconds', { logGroupName: 'g', startTime: 0, endTime: 1_800_000_000_000, queryString: query() }, /looks like milliseconds/],
    ['a command it does not model', { logGroupName: 'g', startTime: 0, endTime: 1, queryString: `${query()}\n| sort tenant` }, /cannot run the command 'sort tenant'/],
    ['a limit above the row limit', { logGroupName: 'g', startTime: 0, endTime: 1, queryString: query().replace('limit 10', 'limit 10001') }, /limit must be from 1 to 10000/],
    ['a query without stats', { logGroupName: 'g', startTime: 0, endTime: 1, queryString: 'filter calls = 1' }, /one stats/],
    ['an operand it cannot read', { logGroupName: 'g', startTime: 0, endTime: 1, queryString: query().replace('"ModelInvocationLog"', 'ModelInvocationLog') }, /cannot read the operand/],
  ])('refuses %s', (_name, input, message) => {
    expect(() => logs().startQuery(input)).toThrow(message);
  });
});

describe('the IAM and SNS fakes', () => {
  test('IAM keeps five versions at most and never deletes the default one', () => {
    const iam = new FakeIam();
    iam.add('arn:p', emptyBlockDocument());
    for (let i = 0; i < 4; i++) iam.addVersion('arn:p', emptyBlockDocument());
    expect(() => iam.addVersion('arn:p', emptyBlockDocument())).toThrow(/up to 5 versions/);
    expect(() => iam.deletePolicyVersion({ PolicyArn: 'arn:p', VersionId: 'v1' })).toThrow(/default version/);
    expect(decodeURIComponent(iam.getPolicyVersion({ PolicyArn: 'arn:p', VersionId: 'v1' }).PolicyVersion.Document)).toBe(JSON.stringify(emptyBlockDocument()));
  });

  test('SNS refuses a subject over 100 characters or with a line break, and a Number attribute that is not one', () => {
    const sns = new FakeSns('arn:t');
    expect(() => sns.publish({ TopicArn: 'arn:t', Subject: 'x'.repeat(101), Message: 'm' })).toThrow(/Subject/);
    expect(() => sns.publish({ TopicArn: 'arn:t', Subject: 'a\nb', Message: 'm' })).toThrow(/Subject/);
    expect(() => sns.publish({ TopicArn: 'arn:t', Message: 'm', MessageAttributes: { t: { DataType: 'Number', StringValue: 'x' } } })).toThrow(/not a number/);
    expect(() => sns.publish({ TopicArn: 'arn:u', Message: 'm' })).toThrow(/Topic does not exist/);
  });

  test('the world counts calls by service and operation', () => {
    const world = new FakeBudgetAws();
    world.operations.IAM.GetPolicy({ PolicyArn: world.policyArns[0] });
    world.operations.IAM.GetPolicy({ PolicyArn: world.policyArns[1] });
    expect(world.calls.get('IAM GetPolicy')).toBe(2);
    expect(world.count('GetPolicy')).toBe(2);
    expect(world.count()).toBe(2);
  });
});
