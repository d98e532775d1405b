import { describe, expect, it } from 'vitest';
import { established, parseProtocols, sessionStates } from '../../../src/bgp/index.js';

// birdc show protocols of BIRD 2.0.12 with `timeformat protocol "%s"`.
const out = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     1796534400    
lvs_bfd    BFD        ---        up     1796534400    
lvs_vips4  Static     master4    up     1796534400    
lvs_vips6  Static     master6    up     1796534400    
lvs_peer_10_0_0_1 BGP        ---        up     1796534401    Established   
lvs_peer_10_0_0_2 BGP        ---        start  1796534401    Active        Socket: Connection refused
`;

describe('birdc show protocols', () => {
  it('reads each row', () => {
    expect(parseProtocols(out).map((r) => r.name)).toEqual(['device1', 'lvs_bfd', 'lvs_vips4', 'lvs_vips6', 'lvs_peer_10_0_0_1', 'lvs_peer_10_0_0_2']);
  });

  it('gives one state per peer, absent when BIRD lists none', () => {
    const s = sessionStates(out, ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(s).toEqual([
      { peer: '10.0.0.1', state: 'up', info: 'Established' },
      { peer: '10.0.0.2', state: 'start', info: 'Active        Socket: Connection refused' },
      { peer: '10.0.0.3', state: 'absent', info: '' },
    ]);
    expect(s.map(established)).toEqual([true, false, false]);
  });
});
