export * from './openclaw';
export * from './core/nat';
export * from './core/cost-estimate';
export * from './host/ingress';
export * from './host/host';
export * from './audit/bedrock-audit-trail';
