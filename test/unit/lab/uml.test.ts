import { describe, expect, it } from 'vitest';
import { deathCause, pathsToReexpose } from '../../lab/uml.js';

describe('pathsToReexpose', () => {
  it('keeps only paths the lab shadows (/tmp, /run), outermost first', () => {
    expect(pathsToReexpose(['/root/p', '/var/tmp/x', '/usr'])).toEqual([]);
    expect(pathsToReexpose(['/tmp/ci/p', '/tmp/ci/p/.lab/runs/k-1', '/usr'])).toEqual(['/tmp/ci/p']);
    expect(pathsToReexpose(['/tmp/a b/p', '/run/user/0/p', '/tmp/a b/p/x'])).toEqual(['/run/user/0/p', '/tmp/a b/p']);
  });

  it('does not mistake a sibling with a common prefix for a parent', () => {
    expect(pathsToReexpose(['/tmp/p', '/tmp/p2/run'])).toEqual(['/tmp/p', '/tmp/p2/run']);
    expect(pathsToReexpose(['/tmpdir/p', '/running'])).toEqual([]);
  });
});

describe('deathCause', () => {
  it('names the panic and the failure just before it', () => {
    const console = [
      'Linux version 6.1.0-44-amd64 (debian-kernel@lists.debian.org)',
      'Run /var/tmp/lvs-lab-init-x/init.sh as init process',
      'userspace - ptrace set fp regs failed, errno = 14',
      'Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b',
      '',
    ].join('\n');
    expect(deathCause(console)).toBe('userspace - ptrace set fp regs failed, errno = 14; Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b');
  });

  it('gives the panic alone when nothing before it says what failed', () => {
    expect(deathCause('booting\nKernel panic - not syncing: VFS: Unable to mount root fs\n')).toBe('Kernel panic - not syncing: VFS: Unable to mount root fs');
  });

  it('falls back to the last console line, then to saying there was none', () => {
    expect(deathCause('lab: kernel 6.1.192 up\nsh: 1: vitest: not found\n\n')).toBe('sh: 1: vitest: not found');
    expect(deathCause('')).toBe('no console output at all');
  });
});
