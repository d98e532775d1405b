// The VRRP runtime: native raw/packet sockets, takeover actions and the speaker that wires them
// to the pure core in ../. Importing this does not load the native addon; opening a socket does.
export * from './announcer.js';
export * from './channel.js';
export * from './frames.js';
export * from './link-monitor.js';
export * from './native.js';
export * from './serial-link.js';
export * from './sockaddr.js';
export * from './speaker.js';
export * from './takeover.js';
