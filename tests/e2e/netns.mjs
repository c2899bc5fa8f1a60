// netns.mjs - network namespaces for the e2e tests that need root: why they
// cannot run here, and a set of namespaces joined by veth pairs, made and removed.
import { execFileSync } from 'node:child_process';

export const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

// Why namespaces cannot be made here, or null.
export function netnsMissing() {
  if (process.getuid && process.getuid() !== 0) return 'network namespaces need root';
  try { execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' }); return null; } catch { return 'the ip command (iproute2) is missing or netns is not allowed'; }
}

export function netnsDown(names) {
  const have = execFileSync('ip', ['netns', 'list']).toString();
  for (const n of names) if (new RegExp(`^${n}\\b`, 'm').test(have)) ip('netns', 'del', n);
}

// names: namespaces (made afresh, loopback up); links: [ns, dev, addr, peerNs, peerDev, peerAddr]
// veth pairs with /24 addresses.
export function netnsUp(names, links) {
  netnsDown(names);
  for (const n of names) { ip('netns', 'add', n); ip('-n', n, 'link', 'set', 'lo', 'up'); }
  for (const [ns, dev, addr, peerNs, peerDev, peerAddr] of links) {
    ip('link', 'add', dev, 'netns', ns, 'type', 'veth', 'peer', 'name', peerDev, 'netns', peerNs);
    for (const [n, d, a] of [[ns, dev, addr], [peerNs, peerDev, peerAddr]]) {
      ip('-n', n, 'addr', 'add', `${a}/24`, 'dev', d);
      ip('-n', n, 'link', 'set', d, 'up');
    }
  }
}
