import { BlockList, isIPv4 } from 'node:net';

/**
 * Who may speak for a client through X-Forwarded-* headers when CCRI_TRUST_PROXY is on: the
 * peer of the connection, when it is on this machine or a private network (where a reverse
 * proxy runs), and only that one hop. A client on the internet that sends these headers
 * itself is not believed, and of X-Forwarded-For only the address the proxy appended counts,
 * never one a client put in front of it. docs/security.md, "Behind a reverse proxy".
 */
const PROXIES = new BlockList();
for (const [net, bits] of [['127.0.0.0', 8], ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['169.254.0.0', 16]] as const) PROXIES.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::1', 128], ['fc00::', 7], ['fe80::', 10]] as const) PROXIES.addSubnet(net, bits, 'ipv6');

export function trustedProxy(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : undefined;
  if (v4 && isIPv4(v4)) return PROXIES.check(v4, 'ipv4');
  try {
    return PROXIES.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
}

/** Fastify's trustProxy: the connection's peer (hop 0) when it may be a proxy, and nothing beyond it. */
export const trustOneProxyHop = (address: string, hop: number): boolean => hop === 0 && trustedProxy(address);
