// The pure VRRP core: codec, timing, state machine, demux. The socket layer (raw IP sockets,
// gratuitous ARP / NA) lives elsewhere and drives these through Clock, VrrpListener and VrrpDemux.
export * from './checksum.js';
export * from './clock.js';
export * from './config.js';
export * from './demux.js';
export * from './instance.js';
export * from './sync-group.js';
export * from './ipv4-header.js';
export * from './packet.js';
