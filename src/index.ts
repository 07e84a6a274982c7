export * from './openclaw';
export * from './core/nat';
export * from './core/cost-estimate';
export * from './host/ingress';
export * from './host/host';
export * from './host/bedrock-audit';
export * from './audit/bedrock-audit-trail';
