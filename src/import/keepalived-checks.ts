import { dnsQueryTypes } from '../api/index.js';
import { maxHealthChecks, maxUrls } from '../api/health-check.js';
import type { Findings } from './finding.js';
import type { ConfNode } from './keepalived-reader.js';
import { hexBytes, isAddress, readSeconds, readUnsigned } from './values.js';
import { checker as checkerTable, reportNotCarried, reportUnknown, url as urlTable } from './not-carried.js';

/** The health check settings keepalived lets a virtual_server and a real_server set for their checkers. */
export interface CheckTimers {
  connectTimeout?: number;
  delayLoop?: number;
  retry?: number;
  delayBeforeRetry?: number;
  warmup?: number;
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

const types: Record<string, string> = {
  TCP_CHECK: 'TCP',
  HTTP_GET: 'HTTP',
  SSL_GET: 'HTTPS',
  UDP_CHECK: 'UDP',
  DNS_CHECK: 'DNS',
  SMTP_CHECK: 'SMTP',
  PING_CHECK: 'Ping',
};

/** Checkers with no counterpart, and why. */
const refused: Record<string, string> = {
  MISC_CHECK: 'directors run no user scripts; give the service an HTTP health endpoint and use HTTP_GET',
  FILE_CHECK: 'directors read no files written by other programs; a check of the service itself replaces it',
  BFD_CHECK: 'lvs-operator runs no BFD sessions',
};

export function isChecker(keyword: string): boolean {
  return types[keyword] !== undefined || refused[keyword] !== undefined;
}

/** keepalived 2.2.7's defaults per checker (check_api.c, check_http.c, check_dns.c, check_misc.c). */
function defaultRetry(keyword: string): number {
  return keyword === 'DNS_CHECK' ? 3 : 1;
}
/** delay_before_retry when unset; 0 means delay_loop (DNS_CHECK). */
function defaultRetryDelay(keyword: string): number {
  return keyword === 'HTTP_GET' || keyword === 'SSL_GET' ? 3 : keyword === 'DNS_CHECK' ? 0 : 1;
}

/** status_code 200 / 200-299 / several; our list takes the same forms, 16 at most. */
function statusCodes(codes: ConfNode[], findings: Findings): (number | string)[] | undefined {
  const out: (number | string)[] = [];
  for (const c of codes) {
    for (const arg of c.args.flatMap((a) => a.split(',')).filter((a) => a !== '')) {
      const m = /^(\d{3})(?:-(\d{3}))?$/.exec(arg);
      const lo = Number(m?.[1]);
      const hi = Number(m?.[2] ?? m?.[1]);
      if (!m || lo < 100 || hi > 599 || hi < lo) findings.error(c, `status_code '${arg}' is invalid: ignored (keepalived ignores it too)`);
      else if (out.length >= 16) findings.error(c, `status_code ${arg} is not carried: 16 codes or ranges at most here`);
      else out.push(m[2] === undefined ? lo : arg);
    }
  }
  // No status_code: keepalived takes any 2xx, as the API does.
  return out.length > 0 ? out : undefined;
}

function isJsRegex(s: string): boolean {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}

function readUrl(url: ConfNode, findings: Findings): Record<string, unknown> {
  const u: Record<string, unknown> = {};
  const kids = url.children ?? [];
  for (const k of kids) {
    const v = k.args[0];
    switch (k.keyword) {
      case 'path':
        if (v?.startsWith('/')) u.path = v;
        else findings.error(k, `path '${v ?? ''}' must start with '/': not carried`);
        break;
      case 'digest':
        if (/^[0-9a-fA-F]{32}$/.test(v ?? '')) u.digest = (v as string).toLowerCase();
        else findings.error(k, `digest '${v ?? ''}' is not 32 hex digits (an MD5): not carried`);
        break;
      case 'status_code':
        break;
      case 'virtualhost':
        if (v !== undefined) u.host = v;
        break;
      case 'regex':
        if (v !== undefined && isJsRegex(v)) {
          u.regex = v;
          findings.info(k, 'regex is matched by JavaScript regular expressions, keepalived uses PCRE2: the common syntax means the same');
        } else findings.error(k, `regex '${v ?? ''}' is no JavaScript regular expression: not carried`);
        break;
      case 'regex_no_match':
        u.regexNoMatch = true;
        break;
      default:
        if (!reportNotCarried(urlTable, k, findings)) reportUnknown(k, 'url', findings);
    }
  }
  const status = statusCodes(kids.filter((k) => k.keyword === 'status_code'), findings);
  if (status) u.expectedStatus = status;
  if (u.regexNoMatch && u.regex === undefined) delete u.regexNoMatch;
  return u;
}

function httpSettings(checker: ConfNode, timers: CheckTimers, findings: Findings): Record<string, unknown> {
  const urls = (checker.children ?? []).filter((c) => c.keyword === 'url');
  const read = urls.slice(0, maxUrls).map((u) => readUrl(u, findings));
  urls.slice(maxUrls).forEach((u) => findings.error(u, `url is not carried: ${maxUrls} urls at most per check here`));
  const http: Record<string, unknown> = read.length === 1 ? { ...read[0] } : { urls: read };
  // A url's own virtualhost wins over the checker's, the real server's and the virtual server's.
  if (timers.virtualhost !== undefined && http.host === undefined) http.host = timers.virtualhost;
  if (checker.keyword === 'SSL_GET') http.tlsVerify = false;
  const sni = (checker.children ?? []).find((c) => c.keyword === 'enable_sni');
  // keepalived takes enable_sni in HTTP_GET too, where it does nothing; the API refuses it there.
  if (sni && checker.keyword === 'SSL_GET') http.enableSNI = true;
  else if (sni) findings.info(sni, 'enable_sni is not applicable: HTTP_GET makes no TLS connection');
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

function dnsSettings(checker: ConfNode, findings: Findings): Record<string, unknown> {
  const dns: Record<string, unknown> = { queryType: 'SOA' };
  for (const k of checker.children ?? []) {
    if (k.keyword === 'type') {
      const t = (k.args[0] ?? '').toUpperCase();
      if ((dnsQueryTypes as readonly string[]).includes(t)) dns.queryType = t;
      else findings.error(k, `type '${k.args[0] ?? ''}' is not carried: the API asks for ${dnsQueryTypes.join(', ')}; SOA, keepalived's default, is asked for`);
    } else if (k.keyword === 'name' && k.args[0] !== undefined && k.args[0] !== '') dns.queryName = k.args[0];
  }
  return dns;
}

/** Keywords each checker reads besides the common ones; anything else keepalived reports as unknown. */
const ownKeywords: Record<string, string[]> = {
  HTTP_GET: ['url', 'nb_get_retry', 'http_protocol', 'enable_sni', 'fast_recovery'],
  SSL_GET: ['url', 'nb_get_retry', 'http_protocol', 'enable_sni', 'fast_recovery'],
  UDP_CHECK: ['payload', 'require_reply', 'min_reply_length', 'max_reply_length'],
  DNS_CHECK: ['type', 'name'],
  SMTP_CHECK: ['helo_name', 'host'],
};
/** Keywords every checker but MISC_CHECK reads that have no counterpart here (not-carried.ts says why). */
const commonNotCarried = new Set(['bind_port', 'bind_if', 'fwmark', 'log_all_failures']);

/**
 * One checker block to our health check, with keepalived's values written out where our
 * defaults differ (60 s delay_loop, 5 s connect_timeout, retry 1, delay_before_retry, warmup).
 * `inherited` holds the virtual_server's and real_server's settings; the checker's own win.
 */
export function translateChecker(checker: ConfNode, inherited: CheckTimers, findings: Findings): Check | undefined {
  const why = refused[checker.keyword];
  if (why !== undefined) {
    findings.error(checker, `${checker.keyword} is not carried: ${why}`);
    return undefined;
  }
  const timers: CheckTimers = { ...inherited };
  const check: Check = { type: types[checker.keyword] };
  const http = checker.keyword === 'HTTP_GET' || checker.keyword === 'SSL_GET';
  if (http && !(checker.children ?? []).some((c) => c.keyword === 'url')) {
    findings.error(checker, `${checker.keyword} without a url: keepalived drops such a checker, so it is not carried either`);
    return undefined;
  }
  for (const k of checker.children ?? []) {
    // virtualhost is a keyword of HTTP_GET and SSL_GET only; keepalived does not know it elsewhere.
    if (k.keyword === 'virtualhost' && !http) {
      reportUnknown(k, checker.keyword, findings);
      continue;
    }
    if (readTimer(k, timers, findings)) continue;
    const v = k.args[0];
    if (k.keyword === 'nb_get_retry' && http) {
      findings.warn(k, 'nb_get_retry is deprecated (keepalived says so too): read as retry');
      const n = readUnsigned(v, 0, 4294967295);
      if (n !== undefined) timers.retry = n;
    } else if (k.keyword === 'connect_port') {
      const p = readUnsigned(v, 1, 65535);
      if (p === undefined) findings.error(k, `connect_port '${v ?? ''}' is invalid: ignored`);
      else check.port = p;
    } else if (k.keyword === 'connect_ip' || k.keyword === 'bindto') {
      if (isAddress(v)) check[k.keyword === 'connect_ip' ? 'connectAddress' : 'bindAddress'] = v;
      else findings.error(k, `${k.keyword} '${v ?? ''}' is not an address: not carried`);
    } else if (k.keyword === 'alpha') {
      findings.info(k, 'alpha is how every new real server starts here (down until its first check passes); see keepalived-mapping.md');
    } else if (k.keyword === 'helo_name' && checker.keyword === 'SMTP_CHECK') {
      if (v !== undefined && /^[A-Za-z0-9.-]+$/.test(v)) check.smtp = { helo: v };
      else findings.error(k, `helo_name '${v ?? ''}' is not a host name: keepalived's default is sent`);
    } else if (ownKeywords[checker.keyword]?.includes(k.keyword) || commonNotCarried.has(k.keyword)) {
      // The checker's own settings are read by its settings reader; the rest have no counterpart.
      reportNotCarried(checkerTable, k, findings);
    } else {
      reportUnknown(k, checker.keyword, findings);
    }
  }

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
    const delay = timers.delayBeforeRetry ?? defaultRetryDelay(checker.keyword);
    if (delay > 0 && delay !== check.intervalSeconds) check.retryDelaySeconds = Math.min(Math.max(1, Math.ceil(delay)), 3600);
    if (delay > 0 && delay < 1) findings.warn(checker, `delay_before_retry ${delay} s is 1 s here: the API takes whole seconds`);
    findings.info(checker, `retry ${retry} is fall ${retry + 1}: keepalived fails a server after the first failure and ${retry} retries, ${delay > 0 ? `${delay} s` : 'delay_loop'} apart (delay_before_retry)`);
  }
  // keepalived's warmup defaults to delay_loop; ours to a tenth of the interval.
  check.warmupSeconds = Math.min(Math.ceil(timers.warmup ?? (check.intervalSeconds as number)), 3600);
  if (http) check.http = httpSettings(checker, timers, findings);
  if (checker.keyword === 'UDP_CHECK') check.udp = udpSettings(checker, findings);
  if (checker.keyword === 'DNS_CHECK') check.dns = dnsSettings(checker, findings);
  return check;
}

/** Checks of one real server: the list all of which must pass, as keepalived needs every checker up. */
export function translateCheckers(checkers: ConfNode[], timers: CheckTimers, at: ConfNode, findings: Findings): Check[] {
  if (checkers.length === 0) {
    findings.info(at, 'no checker: keepalived keeps this real server up, so its health check is type None');
    return [{ type: 'None' }];
  }
  const out: Check[] = [];
  for (const c of checkers) {
    const t = translateChecker(c, timers, findings);
    if (!t) continue;
    if (out.length >= maxHealthChecks) findings.error(c, `checker not carried: ${maxHealthChecks} checks at most per real server here`);
    else out.push(t);
  }
  if (out.length === 0) {
    findings.error(at, 'none of its checkers is carried: the real server gets type None (always up) where keepalived checked it');
    return [{ type: 'None' }];
  }
  return out;
}
