// Issue 15: a million random and mutated VRRP packets and netlink replies through the decoders.
// Every input must end in a value or the decoder's typed rejection (a drop reason, NlDecodeError);
// anything else escaping is a decoder bug. Deterministic: FUZZ_SEED and FUZZ_ITERATIONS override,
// and a failure names its seed and case so it reproduces.
import { describe, expect, it } from 'vitest';
import { prng } from '../vrrp/prng.js';
import { encodeIpv4Packet } from '../../../src/vrrp/ipv4-header.js';
import { nlSeeds, vrrpSeeds, type VrrpSeed } from './seeds.js';
import { int, mutate, nlLengthFields, randomBytes, type Field, type Rand } from './mutate.js';
import { decodeNl, decodeVrrp, fixChecksum } from './decode.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x15f0221);
const TOTAL = Number(process.env.FUZZ_ITERATIONS ?? 1_000_000);
const VRRP_CASES = Math.round(TOTAL * 0.4);
const NL_CASES = TOTAL - VRRP_CASES;

interface Failure { case: number; input: string; error: string }

/** Runs `cases` inputs; counts outcomes; keeps the first few escapes with what reproduces them. */
function run(name: string, cases: number, one: (r: Rand) => { input: Buffer; decode: () => string }): { counts: Record<string, number>; failures: Failure[]; handled: number } {
  const counts: Record<string, number> = {};
  const failures: Failure[] = [];
  let handled = 0;
  const started = performance.now();
  for (let i = 0; i < cases; i++) {
    const { input, decode } = one(prng(SEED + i));
    try {
      const outcome = decode();
      counts[outcome] = (counts[outcome] ?? 0) + 1;
      handled++;
    } catch (e) {
      if (failures.length < 10) failures.push({ case: i, input: input.toString('hex'), error: String((e as Error).stack ?? e) });
    }
  }
  const ms = Math.round(performance.now() - started);
  console.log(JSON.stringify({ fuzz: name, seed: SEED, cases, handled, ms, counts }));
  return { counts, failures, handled };
}

const report = (fs: Failure[]): string => fs.map((f) => `FUZZ_SEED=${SEED} case ${f.case}: ${f.input}\n${f.error}`).join('\n\n');

describe('decoder fuzzing', () => {
  const vrrp = vrrpSeeds();
  const nl = nlSeeds().map((s) => ({ ...s, fields: nlLengthFields(s.bytes) as Field[] }));

  it('valid seeds decode to what was encoded', () => {
    for (const s of vrrp) expect(decodeVrrp(s, s.bytes)).toEqual({ outcome: 'accepted', advert: s.advert });
    for (const s of nl) expect(decodeNl(s.kind, s.bytes)).toEqual({ outcome: 'ok', values: s.values });
    expect(nl.every((s) => s.fields.length > 0)).toBe(true);
  });

  it(`${VRRP_CASES} VRRP packets, v2 and v3, IPv4 and IPv6`, () => {
    const msgFields: Field[] = [{ at: 3, size: 1 }, { at: 0, size: 1 }, { at: 4, size: 2, be: true }];
    const ipFields: Field[] = [{ at: 0, size: 1 }, { at: 2, size: 2, be: true }, { at: 6, size: 2, be: true }, { at: 23, size: 1 }];
    const one = (r: Rand): { input: Buffer; decode: () => string } => {
      const seed: VrrpSeed = vrrp[int(r, vrrp.length)]!;
      let input: Buffer;
      const mode = int(r, 10);
      if (mode === 0) {
        input = randomBytes(r, int(r, 120));
      } else if (mode < 6) {
        // Mutate the VRRP message, usually with its checksum fixed so the later checks are reached.
        let msg = seed.family === 'IPv4' ? seed.bytes.subarray(20) : seed.bytes;
        for (let n = 1 + int(r, 3); n > 0; n--) msg = mutate(r, msg, msgFields);
        if (int(r, 3) > 0) fixChecksum(seed, msg);
        input = seed.family === 'IPv4' ? encodeIpv4Packet({ src: seed.src, dst: seed.dst }, msg) : msg;
      } else {
        input = seed.bytes;
        for (let n = 1 + int(r, 3); n > 0; n--) input = mutate(r, input, seed.family === 'IPv4' ? ipFields : msgFields);
      }
      return { input, decode: () => decodeVrrp(seed, input).outcome };
    };
    const { failures, handled, counts } = run('vrrp', VRRP_CASES, one);
    expect(report(failures)).toBe('');
    expect(handled).toBe(VRRP_CASES);
    expect(counts.accepted).toBeGreaterThan(0);
  }, 300_000);

  it(`${NL_CASES} IPVS generic netlink replies: services, destinations, daemons, info, config, family, errors`, () => {
    const one = (r: Rand): { input: Buffer; decode: () => string } => {
      const seed = nl[int(r, nl.length)]!;
      let input = seed.bytes;
      if (int(r, 10) === 0) input = randomBytes(r, int(r, 200));
      else for (let n = 1 + int(r, 3); n > 0; n--) input = mutate(r, input, seed.fields);
      return { input, decode: () => decodeNl(seed.kind, input).outcome };
    };
    const { failures, handled, counts } = run('ipvs-netlink', NL_CASES, one);
    expect(report(failures)).toBe('');
    expect(handled).toBe(NL_CASES);
    expect(counts.ok).toBeGreaterThan(0);
  }, 300_000);
});
