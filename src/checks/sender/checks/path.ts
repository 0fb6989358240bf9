/**
 * The sender checks of the path out: the netconsole device (exists, up, not enslaved, able to
 * poll, has an address), the route to the receiver, and the remote MAC against the next hop. Pure.
 */
import { ipFamily } from '../../../config/netconsole-spec.js';
import type { Finding } from '../../../findings/finding.js';
import { finding } from '../../../findings/catalog.js';
import type { SenderFacts } from '../../host/facts.js';
import { parseNeigh } from '../../host/netinfo.js';
import { type CheckResult, check } from '../../check.js';
import { where, type SenderView } from '../view.js';

/** Compares kernel versions `a.b.c`: whether `release` is older than `min`. */
function kernelOlderThan(release: string, min: [number, number, number]): boolean | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) return undefined;
  const v = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  for (let i = 0; i < 3; i++) if (v[i] !== min[i]) return v[i]! < min[i]!;
  return false;
}

export function deviceCheck(facts: SenderFacts, v: SenderView): CheckResult {
  const { links, link, devName, target } = v;
  const f: Finding[] = [];
  let detail: string;
  if (!links.length) {
    detail = 'unknown: ip link not available';
  } else if (!link) {
    f.push(
      finding('sender-device-missing', {
        summary: `the netconsole device ${devName} does not exist`,
        evidence: [
          `devices: ${links.map(l => l.name).join(', ')}`,
          ...(target
            ? [`target from ${where(target)}${target.dev ? '' : ' names no device (the kernel uses eth0)'}`]
            : []),
        ],
        subject: devName,
      }),
    );
    detail = `${devName} missing`;
  } else {
    const isRunning = v.running.some(t => t.dev === devName);
    const linkFrom = facts.ipLink?.from ?? 'ip link';
    detail = `${link.name}${link.kind ? ` (${link.kind})` : ''} ${link.up ? 'up' : 'down'}${link.lowerUp === false ? ', no carrier' : ''}${link.addrs.length ? `, ${link.addrs.map(a => `${a.address}/${a.prefix}`).join(' ')}` : ''}`;
    if (!link.up)
      f.push(
        finding('sender-device-down', {
          summary: `${link.name} is administratively down`,
          evidence: [`${linkFrom}: ${link.name} <${link.flags.join(',')}>`],
          hint: `ip link set ${link.name} up`,
          subject: link.name,
        }),
      );
    else if (link.lowerUp === false)
      f.push(
        finding('sender-device-down', {
          summary: `${link.name} has no carrier`,
          evidence: [`${linkFrom}: ${link.name} <${link.flags.join(',')}> (no LOWER_UP)`],
          // It is up already: the catalog's `ip link set DEV up` would change nothing.
          hint: `${link.name} is up but has no link: check its cable and switch port (on a virtual machine, the host's side of its NIC: the tap, veth or bridge port); ip link show ${link.name} shows LOWER_UP when the link is back`,
          subject: link.name,
        }),
      );
    if (link.master) {
      const master = links.find(l => l.name === link.master);
      f.push(
        finding('sender-device-unsupported', {
          summary: `${link.name} is enslaved to ${link.master}${master?.kind ? ` (${master.kind})` : link.slaveKind ? ` (${link.slaveKind})` : ''}: netpoll refuses slave devices`,
          evidence: [`${linkFrom}: ${link.name} master ${link.master}`],
          hint: `Use the master as the netconsole device: DEV=${link.master} (or netconsole=@/${link.master},...) and reload netconsole`,
          subject: link.name,
        }),
      );
    }
    const release = facts.kernelRelease?.text.trim() || v.klog?.kernelVersion;
    if (
      link.kind &&
      ['bond', 'bridge', 'vlan', 'team'].includes(link.kind) &&
      release &&
      kernelOlderThan(release, [3, 0, 0])
    ) {
      f.push(
        finding('sender-device-unsupported', {
          severity: 'warning',
          summary: `${link.name} is a ${link.kind} device on kernel ${release}: old kernels may lack netpoll support for it`,
          evidence: [`kernel ${release}`, `${link.name}: ${link.kind}`],
          subject: link.name,
        }),
      );
    }
    if (link.wireless)
      f.push(
        finding('sender-device-unsupported', {
          severity: 'warning',
          summary: `${link.name} looks like a Wi-Fi device: most Wi-Fi drivers cannot send from netpoll`,
          evidence: [`${link.name}${link.linkType ? ` link/${link.linkType}` : ''}`],
          subject: link.name,
        }),
      );
    const fam = target ? ipFamily(target.remoteIp) : 4;
    if (
      target &&
      !target.localIp &&
      fam !== 0 &&
      !link.addrs.some(a => a.family === fam) &&
      facts.ipAddr !== undefined &&
      !link.master
    ) {
      f.push(
        finding('sender-no-address', {
          severity: isRunning ? 'warning' : 'error',
          summary: `${link.name} has no IPv${fam} address${isRunning ? ' now (netconsole took one at load time)' : ''}`,
          evidence: [
            `${facts.ipAddr?.from ?? facts.ipLink?.from ?? 'ip addr'}: ${link.name} has ${link.addrs.length ? link.addrs.map(a => a.address).join(', ') : 'no address'}`,
          ],
          subject: link.name,
        }),
      );
    }
  }
  return check('sender.device', 'netconsole device', f, detail, links.length ? 'pass' : 'unknown');
}

export function routeCheck(facts: SenderFacts, v: SenderView): CheckResult {
  const { route, target, devName } = v;
  const f: Finding[] = [];
  let detail: string;
  if (!route)
    detail = facts.routeGet
      ? 'unknown: ip route get output not understood'
      : `unknown: no route lookup${v.receiverIp ? '' : ' (receiver IP not known)'}`;
  else {
    detail = `${route.dst}${route.via ? ` via ${route.via}` : ''}${route.dev ? ` dev ${route.dev}` : ''}${route.src ? ` src ${route.src}` : ''}`;
    const evidence = [`${facts.routeGet!.from}: ${facts.routeGet!.text.trim().split('\n')[0]}`];
    if (route.type && route.type !== 'local')
      f.push(
        finding('sender-route-mismatch', {
          severity: 'error',
          summary: `no usable route to ${route.dst} (${route.type})`,
          evidence,
        }),
      );
    else if (route.dev && target?.dev && route.dev !== target.dev && !devName.includes(':')) {
      f.push(
        finding('sender-route-mismatch', {
          summary: `the route to ${route.dst} leaves through ${route.dev}, netconsole sends on ${target.dev}`,
          evidence,
          hint: `Use DEV=${route.dev} (netconsole=@/${route.dev},...) and the MAC of ${route.via ?? route.dst}, or check the routing`,
        }),
      );
    } else if (route.src && target?.localIp && route.src !== target.localIp) {
      f.push(
        finding('sender-route-mismatch', {
          summary: `the route to ${route.dst} uses source ${route.src}, netconsole uses ${target.localIp}`,
          evidence,
        }),
      );
    }
  }
  return check('sender.route', 'route to the receiver', f, detail, route ? 'pass' : 'unknown');
}

export function remoteMacCheck(facts: SenderFacts, v: SenderView): CheckResult {
  const { route, target } = v;
  const f: Finding[] = [];
  let detail: string;
  let status: CheckResult['status'] = 'unknown';
  const neigh = facts.neigh ? parseNeigh(facts.neigh.text) : [];
  const resolvedAtStart =
    target && !target.remoteMac && !v.running.length ? v.targetSource?.macResolvedAtStart : undefined;
  if (!target) detail = 'unknown: no target';
  else if (resolvedAtStart) detail = resolvedAtStart;
  else if (!route) detail = target.remoteMac ? `${target.remoteMac} (route unknown)` : 'broadcast (route unknown)';
  else {
    const nextHop = route.via ?? route.dst;
    const n = neigh.find(x => x.ip === nextHop.toLowerCase() && (!route.dev || !x.dev || x.dev === route.dev));
    const tEv = `${where(target)}: remote MAC ${target.remoteMac ?? 'none (broadcast)'}`;
    const rEv = `${facts.routeGet!.from}: ${facts.routeGet!.text.trim().split('\n')[0]}`;
    const nEv = n
      ? `${facts.neigh!.from}: ${nextHop} ${n.mac ? `lladdr ${n.mac} ` : ''}${n.state}`
      : `${facts.neigh?.from ?? 'ip neigh'}: no entry for ${nextHop}`;
    status = 'pass';
    detail = `${target.remoteMac ?? 'broadcast'}; next hop ${nextHop}${n?.mac ? ` is ${n.mac}` : ''}`;
    const hint = n?.mac
      ? `Set the remote MAC to ${n.mac}: SYSLOGMACADDR=${n.mac} (or netconsole=...@${target.remoteIp}/${n.mac}) and reload netconsole`
      : undefined;
    const withHint = hint ? { hint } : {};
    if (route.via) {
      if (!target.remoteMac)
        f.push(
          finding('router-mac-required', {
            summary: `${target.remoteIp} is behind ${route.via}, but netconsole sends to broadcast`,
            evidence: [tEv, rEv, nEv],
            ...withHint,
          }),
        );
      else if (v.ctx.receiverMacs?.map(m => m.toLowerCase()).includes(target.remoteMac))
        f.push(
          finding('router-mac-required', {
            summary: `${target.remoteIp} is behind ${route.via}, but the remote MAC ${target.remoteMac} is the receiver's own`,
            evidence: [tEv, rEv, nEv],
            ...withHint,
          }),
        );
      else if (n?.mac && n.mac !== target.remoteMac)
        f.push(
          finding('router-mac-required', {
            summary: `${target.remoteIp} is behind ${route.via} (${n.mac}), but the remote MAC is ${target.remoteMac}`,
            evidence: [tEv, rEv, nEv],
            ...withHint,
          }),
        );
    } else if (!target.remoteMac) {
      f.push(
        finding('remote-mac-broadcast', {
          summary: `no remote MAC: netconsole sends to ff:ff:ff:ff:ff:ff`,
          evidence: [tEv, nEv],
          ...withHint,
        }),
      );
    } else if (n?.mac && n.mac !== target.remoteMac) {
      f.push(
        finding('stale-remote-mac', {
          summary: `remote MAC ${target.remoteMac}, but ${nextHop} is now ${n.mac}`,
          evidence: [tEv, nEv],
          ...withHint,
        }),
      );
    }
    if (!n?.mac && f.length === 0) {
      status = 'unknown';
      detail += ` (no neighbour entry for ${nextHop}: ping it from the sender, then look again)`;
    }
  }
  return check('sender.mac', 'remote MAC', f, detail, status);
}
