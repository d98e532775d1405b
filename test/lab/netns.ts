// Network topologies inside the lab kernel: namespaces, veth pairs and bridges that a test builds
// itself and removes when done. Names carry a per-test prefix so files never collide.
import { run, sh, type ExecResult } from './inside.js';

export class Netns {
  /** `null` is the lab kernel's root namespace (where the code under test runs). */
  constructor(readonly name: string | null) {}

  private argv(cmd: string, args: string[]): [string, string[]] {
    return this.name === null ? [cmd, args] : ['ip', ['netns', 'exec', this.name, cmd, ...args]];
  }

  exec(cmd: string, args: string[], opts: { input?: string } = {}): Promise<ExecResult> {
    const [c, a] = this.argv(cmd, args);
    return run(c, a, opts);
  }

  sh(script: string): Promise<ExecResult> {
    return this.name === null ? sh(script) : run('ip', ['netns', 'exec', this.name, 'sh', '-c', script]);
  }

  /** argv that runs `cmd` in this namespace, for spawn(). */
  command(cmd: string, args: string[]): string[] {
    const [c, a] = this.argv(cmd, args);
    return [c, ...a];
  }

  ip(...args: string[]): Promise<ExecResult> {
    return this.exec('ip', args);
  }

  addr(dev: string, cidr: string): Promise<ExecResult> {
    return this.ip('addr', 'add', cidr, 'dev', dev);
  }

  up(dev: string): Promise<ExecResult> {
    return this.ip('link', 'set', dev, 'up');
  }

  sysctl(key: string, value: string | number): Promise<ExecResult> {
    return this.exec('sysctl', ['-qw', `${key}=${value}`]);
  }
}

export const rootNs = new Netns(null);

export class Topology {
  private readonly namespaces: Netns[] = [];
  private readonly rootLinks: string[] = [];

  constructor(readonly prefix: string) {}

  /** A fresh namespace `<prefix>-<name>` with loopback up. */
  async ns(name: string): Promise<Netns> {
    const full = `${this.prefix}-${name}`;
    await run('ip', ['netns', 'add', full]);
    const ns = new Netns(full);
    this.namespaces.push(ns);
    await ns.up('lo');
    return ns;
  }

  /**
   * A veth pair with one end in each namespace; both ends up. Interface names must be <= 15 chars
   * and unique in the root namespace where the pair is born; `renameB` renames b's end once it is in
   * its namespace (e.g. to `eth0`).
   */
  async veth(a: Netns, aIf: string, b: Netns, bIf: string, renameB?: string): Promise<void> {
    await run('ip', ['link', 'add', aIf, 'type', 'veth', 'peer', 'name', bIf]);
    if (a.name === null) this.rootLinks.push(aIf);
    else await run('ip', ['link', 'set', aIf, 'netns', a.name]);
    if (b.name === null) this.rootLinks.push(bIf);
    else await run('ip', ['link', 'set', bIf, 'netns', b.name]);
    if (renameB) await b.ip('link', 'set', bIf, 'name', renameB);
    await a.up(aIf);
    await b.up(renameB ?? bIf);
  }

  /** A bridge in `ns`, up. */
  async bridge(ns: Netns, name: string): Promise<void> {
    await ns.ip('link', 'add', name, 'type', 'bridge');
    if (ns.name === null) this.rootLinks.push(name);
    await ns.up(name);
  }

  /** Attaches `dev` (already in `ns`) to bridge `br`. */
  async attach(ns: Netns, dev: string, br: string): Promise<void> {
    await ns.ip('link', 'set', dev, 'master', br);
  }

  /** Removes every namespace and root-namespace link this topology made (best effort, never throws). */
  async destroy(): Promise<void> {
    for (const ns of this.namespaces.splice(0)) {
      await run('ip', ['netns', 'del', ns.name!]).catch(() => undefined);
    }
    for (const link of this.rootLinks.splice(0)) {
      await run('ip', ['link', 'del', link]).catch(() => undefined);
    }
  }
}
