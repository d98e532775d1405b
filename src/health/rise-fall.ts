/**
 * Rise/fall hysteresis for one target, as a pure value: `rise` consecutive successes
 * bring a down target up, `fall` consecutive failures take an up target down.
 *
 * The initial state is chosen per target:
 *   - 'down' (default): like keepalived with `alpha` on; a new backend gets no traffic
 *     until it has passed `rise` probes.
 *   - 'up': like keepalived's default (`alpha` off); for backends the agent adopts
 *     from the kernel at restart, so an agent upgrade does not pull healthy servers
 *     out of IPVS while they are re-checked. It takes `fall` failures to go down.
 */
export interface RiseFallState {
  healthy: boolean;
  consecutiveOk: number;
  consecutiveFail: number;
}

export interface RiseFall {
  rise: number;
  fall: number;
}

export type InitialHealth = 'up' | 'down';

export function initialState(initial: InitialHealth): RiseFallState {
  return { healthy: initial === 'up', consecutiveOk: 0, consecutiveFail: 0 };
}

/** Applies one probe outcome; `changed` is true only on a transition. */
export function applyResult(
  state: RiseFallState,
  ok: boolean,
  { rise, fall }: RiseFall,
): { state: RiseFallState; changed: boolean } {
  const next: RiseFallState = ok
    ? { healthy: state.healthy, consecutiveOk: state.consecutiveOk + 1, consecutiveFail: 0 }
    : { healthy: state.healthy, consecutiveOk: 0, consecutiveFail: state.consecutiveFail + 1 };
  if (ok && !state.healthy && next.consecutiveOk >= rise) next.healthy = true;
  if (!ok && state.healthy && next.consecutiveFail >= fall) next.healthy = false;
  return { state: next, changed: next.healthy !== state.healthy };
}
