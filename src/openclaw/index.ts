export * from './bedrock';
export * from './config';
export * from './gateway';
export * from './resolver/secret-resolver';
export * from './secret-provider';
export * from './secret-ref';
export * from './tools';
