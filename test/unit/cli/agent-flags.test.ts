import { describe, expect, it } from 'vitest';
import { agentCommand } from '../../../src/cli/agent.js';
import { UsageError } from '../../../src/cli/command.js';

// Flags the agent refuses before it touches the kernel or the API server.
describe('lvs-operator agent flags', () => {
  it('--bird takes child or sidecar, and says so', async () => {
    const run = agentCommand.run(['--bird', 'container']);
    await expect(run).rejects.toThrow(UsageError);
    await expect(agentCommand.run(['--bird', 'container'])).rejects.toThrow('--bird takes child or sidecar, not "container"');
  });

  it('lists --bird and --bird-dir in its help', async () => {
    let out = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
    try {
      expect(await agentCommand.run(['--help'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(out).toMatch(/--bird MODE .*child .*sidecar/s);
    expect(out).toContain('--bird-dir DIR');
  });
});
