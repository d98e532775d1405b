import { isIPv4, isIPv6 } from '../api/index.js';

// Value readers shaped like keepalived's read_unsigned_strvec / read_timer: a value that does
// not read returns undefined and the caller reports it, as keepalived logs it and goes on.

export function readUnsigned(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

/** Seconds as keepalived's timers take them: a decimal, down to microseconds. */
export function readSeconds(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) return undefined;
  return Number(text);
}

export function isAddress(text: string | undefined): text is string {
  return text !== undefined && (isIPv4(text) || isIPv6(text));
}

/** `192.168.1.10/24` -> the address; keepalived's virtual_ipaddress entries carry a prefix. */
export function addressOf(text: string): string {
  const slash = text.indexOf('/');
  return slash < 0 ? text : text.slice(0, slash);
}

/** Bytes from the hex text keepalived's UDP_CHECK payload and require_reply take. */
export function hexBytes(text: string): Buffer | undefined {
  const clean = text.replace(/^0x/i, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return undefined;
  return Buffer.from(clean, 'hex');
}
