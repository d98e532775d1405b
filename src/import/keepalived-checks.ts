import type { Findings } from './finding.js';
import type { ConfNode } from './keepalived-reader.js';
import { hexBytes, readSeconds, readUnsigned } from './values.js';

/** The health check settings keepalived lets a virtual_server and a real_server set for their checkers. */
export interface CheckTimers {
  connectTimeout?: number;
  delayLoop?: number;
  retry?: number;
  delayBeforeRetry?: number;
  warmup?: number;
  /** Where warmup was set, to report it there. */
  warmupAt?: ConfNode;
  virtualhost?: string;
}

/** Reads a timer keyword of a virtual_server, real_server or checker block; true when it was one. */
export function readTimer(n: ConfNode, into: CheckTimers, findings: Findings): boolean {
  const seconds = (): number | undefined => {
    const v = readSeconds(n.args[0]);
    if (v === undefined) findings.error(n, `${n.keyword} '${n.args[0] ?? ''}' is invalid: ignored (keepalived ignores it too)`);
    return v;
  };
  switch (n.keyword) {
    case 'connect_timeout':
      into.connectTimeout = seconds() ?? into.connectTimeout;
      return true;
    case 'delay_loop':
      into.delayLoop = seconds() ?? into.delayLoop;
      return true;
    case 'delay_before_retry':
      into.delayBeforeRetry = seconds() ?? into.delayBeforeRetry;
      return true;
    case 'warmup':
      into.warmup = seconds() ?? into.warmup;
      into.warmupAt = n;
      return true;
    case 'retry': {
      const v = readUnsigned(n.args[0], 0, 4294967295);
      if (v === undefined) findings.error(n, `retry '${n.args[0] ?? ''}' is invalid: ignored (keepalived ignores it too)`);
      else into.retry = v;
      return true;
    }
    case 'virtualhost':
      if (n.args[0] !== undefined) into.virtualhost = n.args[0];
      return true;
    default:
      return false;
  }
}

type Check = Record<string, unknown>;

const checkerNames = ['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'UDP_CHECK', 'DNS_CHECK', 'SMTP_CHECK', 'PING_CHECK', 'MISC_CHECK', 'FILE_CHECK', 'BFD_CHECK'];

export function isChecker(keyword: string): boolean {
  return checkerNames.includes(keyword);
}

/** Checkers our API has no type for yet: the real server keeps no check from them. */
const refused: Record<string, string> = {
  MISC_CHECK: 'directors run no user scripts; give the service an HTTP health endpoint and use HTTP_GET',
  FILE_CHECK: 'directors read no files written by other programs; a check of the service itself replaces it',
  BFD_CHECK: 'lvs-operator runs no BFD sessions',
  DNS_CHECK: 'the API has no DNS check yet (issue 13); a UDP check could not read the answer code keepalived checks',
  SMTP_CHECK: 'the API has no SMTP check yet (issue 13)',
  PING_CHECK: 'the API has no ping check yet (issue 13)',
};

/** Registered HTTP status codes: a keepalived range (the default 200-299) is carried as the codes servers send. */
const registeredStatus = [
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401,
  402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428,
  429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
];
const maxStatusCodes = 16;

function statusCodes(urlNode: ConfNode, codes: ConfNode[], findings: Findings): number[] {
  const ranges: [number, number][] = [];
  for (const c of codes) {
    for (const arg of c.args.flatMap((a) => a.split(','))) {
      const m = /^(\d{3})(?:-(\d{3}))?$/.exec(arg);
      const lo = Number(m?.[1]);
      const hi = Number(m?.[2] ?? m?.[1]);
      if (!m || lo < 100 || hi > 599 || hi < lo) findings.error(c, `status_code '${arg}' is invalid: ignored (keepalived ignores it too)`);
      else ranges.push([lo, hi]);
    }
  }
  if (ranges.length === 0) ranges.push([200, 299]);
  const wide = ranges.some(([lo, hi]) => hi - lo + 1 > maxStatusCodes) || ranges.length > maxStatusCodes;
  const out = new Set<number>();
  for (const [lo, hi] of ranges) {
    for (let s = lo; s <= hi; s++) if (!wide || registeredStatus.includes(s) || lo === hi) out.add(s);
  }
  const list = [...out].sort((a, b) => a - b);
  if (wide) {
    const range = codes.length === 0 ? 'keepalived accepts 200-299 when a url sets no status_code' : 'a status_code range wider than 16 codes';
    findings.warn(urlNode, `${range}; expectedStatus lists the registered codes in it (${list.length > maxStatusCodes ? 'the first 16 of ' : ''}${list.join(',')}): an unregistered code would fail here`);
  }
  return list.slice(0, maxStatusCodes);
}

function httpSettings(checker: ConfNode, timers: CheckTimers, findings: Findings): Record<string, unknown> {
  const urls = (checker.children ?? []).filter((c) => c.keyword === 'url');
  const http: Record<string, unknown> = { path: '/' };
  urls.slice(1).forEach((u) =>
    findings.warn(u, 'a second url is not carried: the API checks one path per real server (several urls land with issue 13); keepalived needs every url to pass'),
  );
  const url = urls[0] as ConfNode;
  const kids = url.children ?? [];
  for (const k of kids) {
    switch (k.keyword) {
      case 'path':
        if (k.args[0]?.startsWith('/')) http.path = k.args[0];
        else findings.error(k, `path '${k.args[0] ?? ''}' must start with '/': not carried`);
        break;
      case 'digest':
        if (/^[0-9a-fA-F]{32}$/.test(k.args[0] ?? '')) http.digest = (k.args[0] as string).toLowerCase();
        else findings.error(k, `digest '${k.args[0] ?? ''}' is not 32 hex digits (an MD5): not carried`);
        break;
      case 'status_code':
        break;
      case 'virtualhost':
        if (k.args[0] !== undefined) http.host = k.args[0];
        break;
      default:
        findings.warn(k, `${k.keyword} is not carried: the API has no ${k.keyword} for HTTP checks yet (regex and the like land with issue 13)`);
    }
  }
  http.expectedStatus = statusCodes(url, kids.filter((k) => k.keyword === 'status_code'), findings);
  if (http.host === undefined && timers.virtualhost !== undefined) http.host = timers.virtualhost;
  if (checker.keyword === 'SSL_GET') http.tlsVerify = false;
  return http;
}

function udpSettings(checker: ConfNode, findings: Findings): Record<string, unknown> {
  const udp: Record<string, unknown> = { encoding: 'Base64' };
  for (const k of checker.children ?? []) {
    if (k.keyword !== 'payload' && k.keyword !== 'require_reply') continue;
    const bytes = hexBytes(k.args.join(''));
    if (!bytes) findings.error(k, `${k.keyword} is not a hex string: ignored (keepalived ignores it too)`);
    else udp[k.keyword === 'payload' ? 'payload' : 'expect'] = bytes.toString('base64');
  }
  return udp;
}

/** Defaults per checker as keepalived 2.2.7 sets them (check_api.c, check_http.c, check_dns.c). */
function defaultRetry(keyword: string): number {
  return keyword === 'DNS_CHECK' ? 3 : keyword === 'MISC_CHECK' ? 0 : 1;
}

const commonKeywords = new Set(['connect_ip', 'connect_port', 'bindto', 'bind_port', 'bind_if', 'fwmark', 'alpha']);

/**
 * One checker block to our health check, with keepalived's values written out where our
 * defaults differ (60 s delay_loop, 5 s connect_timeout, retry 1). `inherited` holds the
 * virtual_server's and real_server's settings, the checker's own override them.
 */
export function translateChecker(checker: ConfNode, inherited: CheckTimers, findings: Findings): Check | undefined {
  const why = refused[checker.keyword];
  if (why !== undefined) {
    findings.error(checker, `${checker.keyword} is not carried: ${why}`);
    return undefined;
  }
  const timers: CheckTimers = { ...inherited };
  const check: Check = {};
  const http = checker.keyword === 'HTTP_GET' || checker.keyword === 'SSL_GET';
  if (http && !(checker.children ?? []).some((c) => c.keyword === 'url')) {
    findings.error(checker, `${checker.keyword} without a url: keepalived drops such a checker, so it is not carried either`);
    return undefined;
  }
  for (const k of checker.children ?? []) {
    if (readTimer(k, timers, findings)) continue;
    if (k.keyword === 'nb_get_retry' && http) {
      findings.warn(k, 'nb_get_retry is deprecated (keepalived says so too): read as retry');
      const v = readUnsigned(k.args[0], 0, 4294967295);
      if (v !== undefined) timers.retry = v;
      continue;
    }
    if (k.keyword === 'connect_port') {
      const p = readUnsigned(k.args[0], 1, 65535);
      if (p === undefined) findings.error(k, `connect_port '${k.args[0] ?? ''}' is invalid: ignored`);
      else check.port = p;
      continue;
    }
    if (commonKeywords.has(k.keyword)) {
      const note =
        k.keyword === 'alpha'
          ? 'a real server new to the kernel is always down until its first check passes here (keepalived alpha); see keepalived-mapping.md'
          : `the API has no ${k.keyword} yet (connectAddress/bindAddress land with issue 13): checks go to the real server's address from the director's own`;
      findings.warn(k, `${k.keyword} is not carried: ${note}`);
      continue;
    }
    if (http && ['url', 'http_protocol', 'enable_sni', 'fast_recovery'].includes(k.keyword)) {
      if (k.keyword !== 'url') findings.warn(k, `${k.keyword} is not carried: the API has no such HTTP setting`);
      continue;
    }
    if (checker.keyword === 'UDP_CHECK' && ['payload', 'require_reply'].includes(k.keyword)) continue;
    findings.error(k, `unknown keyword '${k.keyword}' in ${checker.keyword}: keepalived logs it and ignores it; not carried`);
  }

  check.type = { TCP_CHECK: 'TCP', HTTP_GET: 'HTTP', SSL_GET: 'HTTPS', UDP_CHECK: 'UDP' }[checker.keyword];
  let timeout = timers.connectTimeout ?? 5;
  let interval = timers.delayLoop ?? 60;
  if (!Number.isInteger(timeout)) {
    findings.warn(checker, `connect_timeout ${timeout} s rounded up to ${Math.ceil(timeout)}: the API takes whole seconds`);
    timeout = Math.ceil(timeout);
  }
  if (!Number.isInteger(interval)) {
    findings.warn(checker, `delay_loop ${interval} s rounded up to ${Math.ceil(interval)}: the API takes whole seconds`);
    interval = Math.ceil(interval);
  }
  if (timeout >= interval) {
    // keepalived waits delay_loop after an attempt ends, so a slow answer within connect_timeout
    // passes; keeping the timeout and lengthening the interval keeps such a server healthy.
    findings.warn(
      checker,
      `connect_timeout ${timeout} s is not less than delay_loop ${interval} s, which the API requires: intervalSeconds is ${timeout + 1} (keepalived starts the next check delay_loop after an attempt ends, so its checks were at least ${timeout} s apart too), timeoutSeconds stays ${timeout}`,
    );
    interval = timeout + 1;
  }
  check.intervalSeconds = Math.min(interval, 3600);
  check.timeoutSeconds = Math.min(timeout, 3599);
  const retry = timers.retry ?? defaultRetry(checker.keyword);
  // check_tcp.c tcp_epilog: a server goes down after the first failure and `retry` retries.
  check.fall = Math.min(retry + 1, 100);
  check.rise = 1;
  if (retry + 1 > 100) findings.warn(checker, `retry ${retry}: fall is at most 100 here`);
  if (retry > 0) {
    const delay = timers.delayBeforeRetry ?? (http ? 3 : 1);
    findings.info(
      checker,
      `retry ${retry} is fall ${retry + 1} (keepalived fails a server after the first failure and ${retry} retries); keepalived retries after delay_before_retry ${delay} s, here every intervalSeconds ${check.intervalSeconds} s (retryDelaySeconds lands with issue 13)`,
    );
  }
  if (timers.warmup !== undefined) findings.warn(timers.warmupAt ?? checker, `warmup ${timers.warmup} s is not carried: the API has no warmup yet (issue 13)`);
  if (http) check.http = httpSettings(checker, timers, findings);
  if (checker.keyword === 'UDP_CHECK') check.udp = udpSettings(checker, findings);
  return check;
}
