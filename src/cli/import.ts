import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { formatFinding, ImportError, importConfig } from '../import/index.js';
import { type Subcommand, UsageError } from './command.js';

const usage = `Usage: lvs-operator import [flags] FILE|-

Reads a keepalived.conf (with its includes) or an \`ipvsadm -S -n\` dump and prints the
DirectorGroup, VirtualService, RealServer and Secret objects that reproduce it, as YAML on
stdout. Everything not carried over exactly is reported on stderr as file:line: level: message.
Exit code 0 when objects were written (even with findings), 1 when the input cannot be parsed.

Flags:
  --namespace NS           namespace of the VirtualServices, RealServers and Secret (default "default")
  --group NAME             name of the DirectorGroup (default: router_id, else "imported";
                           with several vrrp_instances, NAME-<instance>)
  --node-selector KEY=VALUE  label of the director nodes (default lvs.dev/director-group=<group>)
  --interface IF           interface of a group no vrrp_instance describes (default eth0)
  --adopt                  every VirtualService adopts the IPVS service already in the kernel
                           (left by keepalived --dont-release-ipvs) instead of leaving it as foreign
  -h, --help               show this help`;

function readStdin(): string {
  return readFileSync(0, 'utf8');
}

export const importCommand: Subcommand = {
  name: 'import',
  summary: 'Translate keepalived.conf or ipvsadm -S -n into lvs.dev objects',
  usage,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        namespace: { type: 'string', default: 'default' },
        group: { type: 'string' },
        'node-selector': { type: 'string' },
        interface: { type: 'string' },
        adopt: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError('give one FILE, or - for stdin');
    const path = positionals[0] as string;
    let nodeSelector: { key: string; value: string } | undefined;
    const sel = values['node-selector'];
    if (sel !== undefined) {
      const i = sel.indexOf('=');
      if (i <= 0) throw new UsageError(`--node-selector takes KEY=VALUE, not ${JSON.stringify(sel)}`);
      nodeSelector = { key: sel.slice(0, i), value: sel.slice(i + 1) };
    }
    try {
      const result = importConfig(path, {
        namespace: values.namespace,
        group: values.group,
        nodeSelector,
        interface: values.interface,
        adopt: values.adopt,
        ...(path === '-' ? { stdin: readStdin() } : {}),
      });
      for (const f of result.findings) process.stderr.write(`${formatFinding(f)}\n`);
      process.stdout.write(result.objects.map((o) => stringify(o)).join('---\n'));
      return result.objects.length > 0 ? 0 : 1;
    } catch (err) {
      if (err instanceof ImportError) {
        process.stderr.write(`${err.at.file}:${err.at.line}: error: ${err.message}\n`);
        return 1;
      }
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') {
        process.stderr.write(`lvs-operator import: ${(err as Error).message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
