import { afterAll, beforeAll } from 'vitest';
import { assertInLab } from '../../lab/inside.js';
import type { EcmpLab } from './ecmp-lab.js';

/** Builds `lab` before a file's tests (inside the lab kernel only) and tears it down after them. */
export function useEcmpLab(lab: EcmpLab): void {
  beforeAll(async () => {
    assertInLab();
    await lab.build();
  }, 120_000);
  afterAll(async () => {
    await lab.destroy();
  });
}
