/**
 * An Ansible inventory as netdiag needs it: hosts in the order the file names them first, groups
 * with their direct hosts, children and variables, every variable with the place that set it (so a
 * bad value is reported at its line). Built by the INI and YAML readers through InventoryBuilder;
 * pure.
 */

/** A variable's value (as text) and where it was set, `FILE:LINE`. */
interface VarValue {
  value: string;
  at: string;
  /** Why the value cannot serve as an ssh setting (a list or mapping, vault-encrypted), if so. */
  unusable?: string;
}
export type Vars = Record<string, VarValue>;

export interface Group {
  name: string;
  /** Hosts listed directly in this group, in file order. */
  hosts: string[];
  children: string[];
  vars: Vars;
}

export interface Inventory {
  file: string;
  /** Every host, in the order the file first names it. */
  hosts: string[];
  /** Variables set on the host itself (host lines, YAML host entries). */
  hostVars: Map<string, Vars>;
  /** Every group, `all` and `ungrouped` included. */
  groups: Map<string, Group>;
}

/** A user's mistake in an inventory: the message names the file and line. */
export class InventoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InventoryError';
  }
}

export class InventoryBuilder {
  private readonly inv: Inventory;
  /** Where each group was first named, for the cycle message. */
  private readonly seen = new Set<string>();

  constructor(file: string) {
    this.inv = { file, hosts: [], hostVars: new Map(), groups: new Map() };
    this.group('all');
    this.group('ungrouped');
  }

  group(name: string): Group {
    let g = this.inv.groups.get(name);
    if (!g) {
      g = { name, hosts: [], children: [], vars: {} };
      this.inv.groups.set(name, g);
    }
    return g;
  }

  host(group: string, name: string, vars: Vars): void {
    if (!this.seen.has(name)) {
      this.seen.add(name);
      this.inv.hosts.push(name);
      this.inv.hostVars.set(name, {});
    }
    Object.assign(this.inv.hostVars.get(name)!, vars);
    const g = this.group(group);
    if (!g.hosts.includes(name)) g.hosts.push(name);
  }

  child(parent: string, child: string, at: string): void {
    if (child === 'all') throw new InventoryError(`${at}: 'all' cannot be a child of '${parent}'`);
    const p = this.group(parent);
    this.group(child);
    if (parent === child || this.descends(child, parent))
      throw new InventoryError(`${at}: '${child}' as a child of '${parent}' makes a loop of groups`);
    if (!p.children.includes(child)) p.children.push(child);
  }

  groupVars(group: string, vars: Vars): void {
    Object.assign(this.group(group).vars, vars);
  }

  /** True when `group` has `target` among its descendants. */
  private descends(group: string, target: string): boolean {
    const stack = [...(this.inv.groups.get(group)?.children ?? [])];
    const visited = new Set<string>();
    while (stack.length) {
      const g = stack.pop()!;
      if (g === target) return true;
      if (visited.has(g)) continue;
      visited.add(g);
      stack.push(...(this.inv.groups.get(g)?.children ?? []));
    }
    return false;
  }

  done(): Inventory {
    // `all` holds every top-level group; `ungrouped` the hosts that are in no other group.
    const all = this.inv.groups.get('all')!;
    const isChild = new Set([...this.inv.groups.values()].flatMap(g => g.children));
    for (const g of this.inv.groups.keys())
      if (g !== 'all' && !isChild.has(g) && !all.children.includes(g)) all.children.push(g);
    const inGroup = new Set(
      [...this.inv.groups.values()].filter(g => g.name !== 'all' && g.name !== 'ungrouped').flatMap(g => g.hosts),
    );
    this.inv.groups.get('ungrouped')!.hosts = this.inv.hosts.filter(h => !inGroup.has(h));
    all.hosts = [];
    return this.inv;
  }
}

/** The hosts of a group and of all its descendants, in inventory order. */
export function groupHosts(inv: Inventory, name: string): string[] {
  if (name === 'all') return [...inv.hosts];
  const found = new Set<string>();
  const stack = [name];
  const visited = new Set<string>();
  while (stack.length) {
    const g = inv.groups.get(stack.pop()!);
    if (!g || visited.has(g.name)) continue;
    visited.add(g.name);
    for (const h of g.hosts) found.add(h);
    stack.push(...g.children);
  }
  return inv.hosts.filter(h => found.has(h));
}

/**
 * A host's variables as Ansible resolves them: `all`'s first, then each group the host is in
 * (directly or through children) from the shallowest to the deepest, groups of one depth by name,
 * and the host's own last.
 */
export function resolveHostVars(inv: Inventory, host: string): Vars {
  const parents = new Map<string, string[]>();
  for (const g of inv.groups.values()) for (const c of g.children) parents.set(c, [...(parents.get(c) ?? []), g.name]);
  const depthMemo = new Map<string, number>();
  const depth = (g: string, guard = 0): number => {
    if (g === 'all' || guard > inv.groups.size) return 0;
    const known = depthMemo.get(g);
    if (known !== undefined) return known;
    const d = 1 + Math.max(0, ...(parents.get(g) ?? ['all']).map(p => depth(p, guard + 1)));
    depthMemo.set(g, d);
    return d;
  };
  const mine = new Set<string>();
  const stack = [...inv.groups.values()].filter(g => g.hosts.includes(host)).map(g => g.name);
  while (stack.length) {
    const g = stack.pop()!;
    if (mine.has(g)) continue;
    mine.add(g);
    stack.push(...(parents.get(g) ?? []));
  }
  mine.add('all');
  const order = [...mine].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
  const vars: Vars = {};
  for (const g of order) Object.assign(vars, inv.groups.get(g)?.vars);
  Object.assign(vars, inv.hostVars.get(host));
  return vars;
}
