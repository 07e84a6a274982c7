import { GatewayAuth, GatewayBind, GatewayOptions } from '../gateway';
import { checkInt, fail, isIpOrCidr, isIpv4, isIpv6, isToken } from './validate';

const BASE_PATH = /^(\/[A-Za-z0-9._~-]+)+$/;
const LOCAL_HTTP_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Validates the gateway settings and the combination of bind, auth and proxies. */
export function validateGateway(g: GatewayOptions, port: number, bind: GatewayBind, auth: GatewayAuth): void {
  checkInt('gateway.port', port, 1, 65535);

  if (auth.mode === 'none' && !bind.isLoopback) {
    fail('gateway.auth', `token, password or trusted-proxy auth when gateway.bind is '${bind.mode}' (no auth is only allowed on loopback)`, 'none');
  }

  const proxies = g.trustedProxies;
  if (proxies !== undefined && !isToken(proxies)) {
    proxies.forEach((p, i) => {
      if (!isToken(p) && !isIpOrCidr(p)) {
        fail(`gateway.trustedProxies[${i}]`, 'an IPv4/IPv6 address or CIDR block such as 10.0.0.0/16', p);
      }
    });
  }

  if (auth.mode === 'trusted-proxy') {
    if (proxies === undefined || (!isToken(proxies) && proxies.length === 0)) {
      fail('gateway.trustedProxies', 'a non-empty list of proxy addresses or CIDR blocks when gateway.auth is trusted-proxy', proxies === undefined ? 'undefined' : '[]');
    }
    if (bind.isLoopback && !auth.trustedProxyOptions?.allowLoopback) {
      fail('gateway.bind', 'a non-loopback bind (lan, tailnet, custom, auto) for trusted-proxy auth, unless gateway.auth.trustedProxy.allowLoopback is true', bind.mode);
    }
  }

  const ui = g.controlUi ?? {};
  if (ui.basePath !== undefined && !isToken(ui.basePath)
    && (!BASE_PATH.test(ui.basePath) || ui.basePath.split('/').some((s) => s === '.' || s === '..'))) {
    fail('gateway.controlUi.basePath', "a path starting with '/' made of letters, digits and . _ ~ - segments (no . or ..), without a trailing '/'", ui.basePath);
  }
  const origins = ui.allowedOrigins;
  if (origins !== undefined && !isToken(origins)) {
    origins.forEach((o, i) => {
      if (!isToken(o) && !isAllowedOrigin(o)) {
        fail(`gateway.controlUi.allowedOrigins[${i}]`, 'an https:// origin without path (http:// only for localhost, 127.0.0.1 or [::1])', o);
      }
    });
  }
  const uiEnabled = ui.enabled ?? true;
  if (uiEnabled && !bind.isLoopback && (origins === undefined || (!isToken(origins) && origins.length === 0))) {
    fail('gateway.controlUi.allowedOrigins', `a non-empty list of https:// browser origins when gateway.bind is '${bind.mode}' and the Control UI is enabled (or set gateway.controlUi.enabled to false)`, origins === undefined ? 'undefined' : '[]');
  }

  if (g.operatorTerminal !== undefined && typeof g.operatorTerminal !== 'boolean') {
    fail('gateway.operatorTerminal', 'true or false', g.operatorTerminal);
  }

  const rate = g.authRateLimit ?? {};
  checkInt('gateway.authRateLimit.maxAttempts', rate.maxAttempts, 1, 10_000);
  checkInt('gateway.authRateLimit.windowMs', rate.windowMs, 1_000, 86_400_000);
  checkInt('gateway.authRateLimit.lockoutMs', rate.lockoutMs, 1_000, 86_400_000);
}

/** An origin is scheme://host[:port] with nothing after it. */
function isAllowedOrigin(origin: string): boolean {
  const m = /^(https?):\/\/([^/?#@\s]+?)(?::(\d{1,5}))?$/.exec(origin);
  if (!m) {
    return false;
  }
  const [, scheme, host, portText] = m;
  if (portText !== undefined && (Number(portText) < 1 || Number(portText) > 65535)) {
    return false;
  }
  const hostOk = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(host)
    || isIpv4(host) || (host.startsWith('[') && host.endsWith(']') && isIpv6(host.slice(1, -1)));
  if (!hostOk) {
    return false;
  }
  return scheme === 'https' || LOCAL_HTTP_HOSTS.has(host.toLowerCase());
}
