import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AxiosProxyConfig } from 'axios';
import { parseLoosely, type ProxySettings } from '../config';

/** Keep-alive agents for the Atlassian connection; `insecure` turns TLS verification off. */
export interface HttpAgents {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
}

export function createAgents(options: { insecure: boolean }): HttpAgents {
  return {
    httpAgent: new http.Agent({ keepAlive: true, keepAliveMsecs: 1000 }),
    httpsAgent: new https.Agent({
      keepAlive: true,
      keepAliveMsecs: 1000,
      rejectUnauthorized: !options.insecure,
    }),
  };
}

/**
 * The proxy decision for one target URL. `proxy` is what axios takes (false: go direct, and do not
 * look at the environment either); `via` names the proxy without its credentials, for logs; `problem`
 * is set when the proxy setting cannot be used (requests then fail with that sentence).
 */
export interface ProxyChoice {
  proxy: AxiosProxyConfig | false;
  via: string | null;
  problem: string | null;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * Picks the proxy for `targetUrl`: HTTPS_PROXY for https targets (HTTP_PROXY when only that is set),
 * HTTP_PROXY for http targets, none when NO_PROXY matches the host or when `settings` is null.
 */
export function chooseProxy(targetUrl: string, settings: ProxySettings | null): ProxyChoice {
  const direct: ProxyChoice = { proxy: false, via: null, problem: null };
  if (settings === null) return direct;
  const target = new URL(targetUrl);
  const secure = target.protocol === 'https:';
  const candidates: Array<[string, string | undefined]> = secure
    ? [
        ['HTTPS_PROXY', settings.httpsProxy],
        ['HTTP_PROXY', settings.httpProxy],
      ]
    : [['HTTP_PROXY', settings.httpProxy]];
  const picked = candidates.find(([, value]) => value !== undefined && value.trim() !== '');
  if (picked === undefined) return direct;
  if (matchesNoProxy(target, settings.noProxy)) return direct;

  const [variable, raw] = picked as [string, string];
  const proxyUrl = parseLoosely(raw);
  if (proxyUrl === null) return { proxy: false, via: null, problem: `${variable} is not a valid proxy URL` };
  if (proxyUrl.protocol !== 'http:' && proxyUrl.protocol !== 'https:') {
    return {
      proxy: false,
      via: null,
      problem: `${variable} uses ${proxyUrl.protocol.replace(/:$/, '')}, but only http:// and https:// proxies are supported`,
    };
  }
  const host = proxyUrl.hostname.replace(/^\[|\]$/g, '');
  if (host === '') return { proxy: false, via: null, problem: `${variable} is not a valid proxy URL` };
  const port = proxyUrl.port === '' ? DEFAULT_PORTS[proxyUrl.protocol] : Number(proxyUrl.port);
  const proxy: AxiosProxyConfig = { protocol: proxyUrl.protocol.replace(/:$/, ''), host, port };
  if (proxyUrl.username !== '' || proxyUrl.password !== '') {
    proxy.auth = { username: safeDecode(proxyUrl.username), password: safeDecode(proxyUrl.password) };
  }
  return { proxy, via: `${proxyUrl.protocol}//${proxyUrl.host}`, problem: null };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * NO_PROXY as curl and most tools read it: entries separated by commas or spaces; `*` matches every
 * host; `example.com`, `.example.com` and `*.example.com` match that domain and its subdomains; an
 * entry may carry `:port`; an IPv4 entry may be a CIDR block such as `10.0.0.0/8`.
 */
export function matchesNoProxy(target: URL, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const hostname = target.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '');
  const port = target.port === '' ? (DEFAULT_PORTS[target.protocol] ?? 0) : Number(target.port);
  for (const rawEntry of noProxy.toLowerCase().split(/[\s,]+/)) {
    const entry = rawEntry.trim();
    if (entry === '') continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      if (inIpv4Block(hostname, entry)) return true;
      continue;
    }
    let entryHost = entry;
    let entryPort = 0;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      entryHost = bracketed[1];
      entryPort = bracketed[2] === undefined ? 0 : Number(bracketed[2]);
    } else {
      const withPort = /^([^:]+):(\d+)$/.exec(entry);
      if (withPort) {
        entryHost = withPort[1];
        entryPort = Number(withPort[2]);
      }
    }
    if (entryPort !== 0 && entryPort !== port) continue;
    const domain = entryHost.replace(/^\*/, '').replace(/^\./, '').replace(/\.+$/, '');
    if (domain === '') continue;
    if (hostname === domain || hostname.endsWith(`.${domain}`)) return true;
  }
  return false;
}

function inIpv4Block(hostname: string, entry: string): boolean {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(entry);
  if (!match || !net.isIPv4(hostname) || !net.isIPv4(match[1])) return false;
  const bits = Number(match[2]);
  if (bits > 32) return false;
  const toNumber = (ip: string): number =>
    ip.split('.').reduce((acc, octet) => (acc * 256 + Number(octet)) >>> 0, 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (toNumber(hostname) & mask) >>> 0 === (toNumber(match[1]) & mask) >>> 0;
}
