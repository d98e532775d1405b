// keepalived's quorum (check/ipwrapper.c: set_quorum_states, update_quorum_state): the sum of the
// weights of live real servers is compared with `quorum`; `hysteresis` widens the band between
// losing and gaining it so a service near the threshold does not flap.

export interface QuorumSpec {
  weight: number;
  hysteresis: number;
}

/** keepalived's defaults: quorum 1, hysteresis 0 (any live weight keeps the service up). */
export const defaultQuorum: QuorumSpec = { weight: 1, hysteresis: 0 };

/**
 * Whether quorum holds given the live weight now and whether it held before (undefined on the
 * first compile, as at keepalived's start, where it takes weight + hysteresis to be up).
 */
export function quorumHolds(q: QuorumSpec, liveWeight: number, heldBefore: boolean | undefined): boolean {
  if (heldBefore === true) return liveWeight > 0 && liveWeight >= q.weight - q.hysteresis;
  return liveWeight >= q.weight + q.hysteresis;
}
