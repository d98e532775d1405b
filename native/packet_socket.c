// The only native code of lvs-operator: thin N-API wrappers over the socket syscalls that node
// lacks (raw IP sockets for VRRP and the ping probe, AF_PACKET for gratuitous ARP / unsolicited NA,
// a non-blocking connect for the SCTP probe). No packet is
// built or parsed here: callers pass sockaddrs and frames as bytes, and receive bytes plus the
// two IPv6 ancillary values (destination, hop limit) that only recvmsg can tell.
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <linux/if_packet.h>
#include <netinet/icmp6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

#define RECV_BUFFER 65536
// Packets handled per readable event before yielding to the event loop.
#define RECV_BATCH 64

#define CHECK(call)                                                       \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error(env, NULL, "lvs packet_socket: N-API call failed"); \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

static napi_value errno_error(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, text, error, num;
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_create_int32(env, err, &num);
  napi_set_named_property(env, error, "errno", num);
  return error;
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  napi_throw(env, errno_error(env, what, err));
  return NULL;
}

static int arg_int(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static int arg_buffer(napi_env env, napi_value v, void **data, size_t *len) {
  bool is;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) return 0;
  return napi_get_buffer_info(env, v, data, len) == napi_ok;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// socket(domain, type, protocol) -> fd, always non-blocking and close-on-exec.
static napi_value js_socket(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t domain, type, protocol;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || !arg_int(env, argv[0], &domain) || !arg_int(env, argv[1], &type) || !arg_int(env, argv[2], &protocol)) {
    napi_throw_type_error(env, NULL, "socket(domain, type, protocol): three integers");
    return NULL;
  }
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return throw_errno(env, "socket", errno);
  napi_value out;
  CHECK(napi_create_int32(env, fd, &out));
  return out;
}

// setsockopt(fd, level, name, value): value is an integer (passed as int) or a Buffer (passed as is).
static napi_value js_setsockopt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd, level, name, ival;
  void *data;
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || !arg_int(env, argv[0], &fd) || !arg_int(env, argv[1], &level) || !arg_int(env, argv[2], &name)) {
    napi_throw_type_error(env, NULL, "setsockopt(fd, level, name, value)");
    return NULL;
  }
  int rc;
  if (arg_int(env, argv[3], &ival)) {
    int v = ival;
    rc = setsockopt(fd, level, name, &v, sizeof v);
  } else if (arg_buffer(env, argv[3], &data, &len)) {
    rc = setsockopt(fd, level, name, data, (socklen_t)len);
  } else {
    napi_throw_type_error(env, NULL, "setsockopt: value must be an integer or a Buffer");
    return NULL;
  }
  if (rc < 0) return throw_errno(env, "setsockopt", errno);
  return undefined(env);
}

// bind(fd, sockaddr bytes).
static napi_value js_bind(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  void *addr;
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || !arg_int(env, argv[0], &fd) || !arg_buffer(env, argv[1], &addr, &len)) {
    napi_throw_type_error(env, NULL, "bind(fd, sockaddr: Buffer)");
    return NULL;
  }
  if (bind(fd, (struct sockaddr *)addr, (socklen_t)len) < 0) return throw_errno(env, "bind", errno);
  return undefined(env);
}

// sendto(fd, data, sockaddr bytes) -> bytes sent. Throws (e.g. EAGAIN, ENETDOWN); never blocks.
static napi_value js_sendto(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd;
  void *data, *addr;
  size_t len, alen;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || !arg_int(env, argv[0], &fd) || !arg_buffer(env, argv[1], &data, &len) ||
      !arg_buffer(env, argv[2], &addr, &alen)) {
    napi_throw_type_error(env, NULL, "sendto(fd, data: Buffer, sockaddr: Buffer)");
    return NULL;
  }
  ssize_t n;
  do n = sendto(fd, data, len, 0, (struct sockaddr *)addr, (socklen_t)alen);
  while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "sendto", errno);
  napi_value out;
  CHECK(napi_create_int64(env, n, &out));
  return out;
}

// attachFilter(fd, program bytes): a classic BPF socket filter (struct sock_filter[], 8 bytes each),
// so the kernel drops what the socket does not want before it is queued (SO_ATTACH_FILTER).
static napi_value js_attach_filter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  void *code;
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || !arg_int(env, argv[0], &fd) || !arg_buffer(env, argv[1], &code, &len) || len == 0 ||
      len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    napi_throw_type_error(env, NULL, "attachFilter(fd, program: Buffer of 8-byte instructions)");
    return NULL;
  }
  struct sock_fprog prog = {.len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = code};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) return throw_errno(env, "setsockopt", errno);
  return undefined(env);
}

// close(fd). Stop any receiver on it first.
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !arg_int(env, argv[0], &fd)) {
    napi_throw_type_error(env, NULL, "close(fd)");
    return NULL;
  }
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, "close", errno);
  return undefined(env);
}

static napi_value js_if_nametoindex(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char name[IF_NAMESIZE + 1];
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "ifNameToIndex(name: string)");
    return NULL;
  }
  unsigned idx = if_nametoindex(name);
  if (idx == 0) return throw_errno(env, name, errno);
  napi_value out;
  CHECK(napi_create_uint32(env, idx, &out));
  return out;
}

// ---- receiving: a uv_poll_t on the fd, recvmsg until EAGAIN, one JS call per packet ----

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int fd;
  int stopped;   // recvStop (or the finalizer) ran: no more callbacks
  int closed;    // libuv is done with the poll handle
  int finalized; // the JS handle was garbage collected
  int in_cleanup; // the environment is being torn down (worker exit)
  int writable;   // a writableStart handle: nothing to read
  unsigned char buf[RECV_BUFFER];
} receiver_t;

// Freed only when both libuv and the JS handle are done with it, so a late recvStop is harmless.
static void receiver_closed(uv_handle_t *h) {
  receiver_t *r = h->data;
  r->closed = 1;
  if (r->finalized) free(r);
}

static void receiver_env_cleanup(void *arg);

static void receiver_stop(receiver_t *r) {
  if (r->stopped) return;
  r->stopped = 1;
  if (!r->in_cleanup) napi_remove_env_cleanup_hook(r->env, receiver_env_cleanup, r);
  uv_poll_stop(&r->poll);
  napi_delete_reference(r->env, r->callback);
  napi_async_destroy(r->env, r->async);
  uv_close((uv_handle_t *)&r->poll, receiver_closed);
}

// Calls back(err, data, from, dst, ifindex, hopLimit); dst/ifindex/hopLimit only when the kernel
// attached IPV6_PKTINFO / IPV6_HOPLIMIT (undefined / -1 otherwise).
static void deliver(receiver_t *r, napi_value err, napi_value *rest) {
  napi_env env = r->env;
  napi_value cb, recv, args[6], result;
  if (r->stopped) return;
  if (napi_get_reference_value(env, r->callback, &cb) != napi_ok || cb == NULL) return;
  napi_get_global(env, &recv); // napi_make_callback needs an object receiver
  args[0] = err;
  for (int i = 0; i < 5; i++) args[i + 1] = rest[i];
  if (napi_make_callback(env, r->async, recv, cb, 6, args, &result) == napi_pending_exception) {
    napi_value ex;
    napi_get_and_clear_last_exception(env, &ex);
    napi_fatal_exception(env, ex);
  }
}

// Reads up to RECV_BATCH packets waiting in the socket, one callback each; returns how many.
static int read_batch(receiver_t *r) {
  napi_env env = r->env;
  napi_value nothing[5];
  for (int i = 0; i < 5; i++) napi_get_undefined(env, &nothing[i]);
  napi_value null;
  napi_get_null(env, &null);
  int n = 0;
  while (n < RECV_BATCH && !r->stopped) {
    struct sockaddr_storage from;
    union {
      struct cmsghdr align;
      unsigned char space[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)) + 64];
    } control;
    struct iovec iov = {.iov_base = r->buf, .iov_len = sizeof r->buf};
    struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control.space, .msg_controllen = sizeof control.space};
    ssize_t len = recvmsg(r->fd, &msg, MSG_DONTWAIT);
    if (len < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) deliver(r, errno_error(env, "recvmsg", errno), nothing);
      break;
    }
    n++;
    napi_handle_scope inner;
    if (napi_open_handle_scope(env, &inner) != napi_ok) break;
    size_t copied = (size_t)len < sizeof r->buf ? (size_t)len : sizeof r->buf; // MSG_TRUNC: caller sees a short packet
    napi_value rest[5];
    void *unused;
    napi_create_buffer_copy(env, copied, r->buf, &unused, &rest[0]);
    napi_create_buffer_copy(env, msg.msg_namelen, &from, &unused, &rest[1]);
    napi_get_undefined(env, &rest[2]);
    napi_create_int32(env, -1, &rest[3]);
    napi_create_int32(env, -1, &rest[4]);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != IPPROTO_IPV6) continue;
      if (c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
        struct in6_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        napi_create_buffer_copy(env, sizeof pi.ipi6_addr, &pi.ipi6_addr, &unused, &rest[2]);
        napi_create_int32(env, (int32_t)pi.ipi6_ifindex, &rest[3]);
      } else if (c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
        int hops;
        memcpy(&hops, CMSG_DATA(c), sizeof hops);
        napi_create_int32(env, hops, &rest[4]);
      }
    }
    deliver(r, null, rest);
    napi_close_handle_scope(env, inner);
  }
  return n;
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  receiver_t *r = h->data;
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (status < 0) {
    napi_value nothing[5];
    for (int i = 0; i < 5; i++) napi_get_undefined(env, &nothing[i]);
    deliver(r, errno_error(env, "poll", -status), nothing);
  } else {
    read_batch(r);
  }
  napi_close_handle_scope(env, scope);
}

// A worker thread's environment going away must not leave an active poll handle on its loop.
static void receiver_env_cleanup(void *arg) {
  receiver_t *r = arg;
  r->in_cleanup = 1;
  receiver_stop(r);
}

static void receiver_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  receiver_t *r = data;
  r->finalized = 1;
  if (!r->stopped) receiver_stop(r);
  else if (r->closed) free(r);
}

// ---- connecting: connect() and one callback when the socket turns writable ----

// connect(fd, sockaddr bytes) -> true when connected at once, false when in progress (EINPROGRESS).
static napi_value js_connect(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  void *addr;
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || !arg_int(env, argv[0], &fd) || !arg_buffer(env, argv[1], &addr, &len)) {
    napi_throw_type_error(env, NULL, "connect(fd, sockaddr: Buffer)");
    return NULL;
  }
  int rc;
  do rc = connect(fd, (struct sockaddr *)addr, (socklen_t)len);
  while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno != EINPROGRESS) return throw_errno(env, "connect", errno);
  napi_value out;
  CHECK(napi_get_boolean(env, rc == 0, &out));
  return out;
}

// The connect finished: back(err) once, err from SO_ERROR (ECONNREFUSED, ETIMEDOUT...) or null.
static void on_writable(uv_poll_t *h, int status, int events) {
  (void)events;
  receiver_t *r = h->data;
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value nothing[5];
  for (int i = 0; i < 5; i++) napi_get_undefined(env, &nothing[i]);
  napi_value err;
  int soerr = 0;
  socklen_t len = sizeof soerr;
  // libuv reports POLLERR as status UV_EBADF: the socket's own error (SO_ERROR) says what failed.
  if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) err = errno_error(env, "getsockopt", errno);
  else if (soerr != 0) err = errno_error(env, "connect", soerr);
  else if (status < 0) err = errno_error(env, "poll", -status);
  else napi_get_null(env, &err);
  deliver(r, err, nothing);
  receiver_stop(r); // one event only; a later recvStop is harmless
  napi_close_handle_scope(env, scope);
}

// A poll on fd calling back per packet received (recvStart) or once when connect() is done
// (writableStart); the handle keeps the event loop alive until recvStop.
static napi_value start_watch(napi_env env, napi_callback_info info, int writable) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  napi_valuetype t;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || !arg_int(env, argv[0], &fd) || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, writable ? "writableStart(fd, callback)" : "recvStart(fd, callback)");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  receiver_t *r = calloc(1, sizeof *r);
  if (r == NULL) return throw_errno(env, "recvStart", ENOMEM);
  r->env = env;
  r->fd = fd;
  r->writable = writable;
  r->poll.data = r;
  int rc = uv_poll_init(loop, &r->poll, fd);
  if (rc < 0) {
    free(r);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  napi_value name;
  napi_create_string_utf8(env, "lvs:packet-socket", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[1], 1, &r->callback);
  napi_async_init(env, NULL, name, &r->async);
  napi_add_env_cleanup_hook(env, receiver_env_cleanup, r);
  rc = uv_poll_start(&r->poll, writable ? UV_WRITABLE : UV_READABLE, writable ? on_writable : on_readable);
  if (rc < 0) {
    r->finalized = 1; // no JS handle will exist: free when libuv closes
    receiver_stop(r);
    return throw_errno(env, "uv_poll_start", -rc);
  }
  napi_value handle;
  CHECK(napi_create_external(env, r, receiver_finalize, NULL, &handle));
  return handle;
}

static napi_value js_recv_start(napi_env env, napi_callback_info info) {
  return start_watch(env, info, 0);
}

// writableStart(fd, callback) -> handle for recvStop: callback(err) once, when connect() is done.
static napi_value js_writable_start(napi_env env, napi_callback_info info) {
  return start_watch(env, info, 1);
}

// recvDrain(handle) -> packets delivered: reads what is waiting in the socket now, synchronously,
// through the recvStart callback. A VRRP backup calls it before acting on an expired
// Master_Down timer: Node runs due timers before it polls sockets, so after the event loop was
// held up the adverts that arrived meanwhile would otherwise be read only after the takeover.
static napi_value js_recv_drain(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *p = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "recvDrain(handle)");
    return NULL;
  }
  receiver_t *r = p;
  int total = 0;
  // A bound on the work (a flood must not hold the loop): 16 batches.
  for (int i = 0; i < 16 && !r->stopped && !r->writable; i++) {
    int n = read_batch(r);
    total += n;
    if (n < RECV_BATCH) break;
  }
  napi_value out;
  CHECK(napi_create_int32(env, total, &out));
  return out;
}

// recvStop(handle): idempotent, for both kinds of handle. The caller must stop before closing the fd.
static napi_value js_recv_stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *p = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "recvStop(handle)");
    return NULL;
  }
  receiver_stop((receiver_t *)p);
  return undefined(env);
}

static void set_int(napi_env env, napi_value obj, const char *name, int v) {
  napi_value n;
  napi_create_int32(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

// Constants from this machine's headers, so TypeScript never hard-codes an ABI number.
static napi_value constants(napi_env env) {
  napi_value c;
  napi_create_object(env, &c);
  set_int(env, c, "AF_INET", AF_INET);
  set_int(env, c, "AF_INET6", AF_INET6);
  set_int(env, c, "AF_PACKET", AF_PACKET);
  set_int(env, c, "SOCK_RAW", SOCK_RAW);
  set_int(env, c, "SOCK_STREAM", SOCK_STREAM);
  set_int(env, c, "SO_ERROR", SO_ERROR);
  set_int(env, c, "SOL_RAW", SOL_RAW);
  set_int(env, c, "IPPROTO_ICMP", IPPROTO_ICMP);
  set_int(env, c, "IPPROTO_ICMPV6", IPPROTO_ICMPV6);
  set_int(env, c, "IPPROTO_SCTP", IPPROTO_SCTP);
  set_int(env, c, "ICMP_FILTER", ICMP_FILTER);
  set_int(env, c, "ICMP6_FILTER", ICMP6_FILTER);
  set_int(env, c, "SOL_SOCKET", SOL_SOCKET);
  set_int(env, c, "SO_BINDTODEVICE", SO_BINDTODEVICE);
  set_int(env, c, "SO_RCVBUF", SO_RCVBUF);
  set_int(env, c, "SO_SNDBUF", SO_SNDBUF);
  set_int(env, c, "IPPROTO_IP", IPPROTO_IP);
  set_int(env, c, "IPPROTO_IPV6", IPPROTO_IPV6);
  set_int(env, c, "IPPROTO_RAW", IPPROTO_RAW);
  set_int(env, c, "IP_HDRINCL", IP_HDRINCL);
  set_int(env, c, "IP_MULTICAST_LOOP", IP_MULTICAST_LOOP);
  set_int(env, c, "IP_MULTICAST_TTL", IP_MULTICAST_TTL);
  set_int(env, c, "IP_ADD_MEMBERSHIP", IP_ADD_MEMBERSHIP);
  set_int(env, c, "IP_DROP_MEMBERSHIP", IP_DROP_MEMBERSHIP);
  set_int(env, c, "IPV6_MULTICAST_LOOP", IPV6_MULTICAST_LOOP);
  set_int(env, c, "IPV6_MULTICAST_HOPS", IPV6_MULTICAST_HOPS);
  set_int(env, c, "IPV6_UNICAST_HOPS", IPV6_UNICAST_HOPS);
  set_int(env, c, "IPV6_ADD_MEMBERSHIP", IPV6_ADD_MEMBERSHIP);
  set_int(env, c, "IPV6_DROP_MEMBERSHIP", IPV6_DROP_MEMBERSHIP);
  set_int(env, c, "IPV6_RECVPKTINFO", IPV6_RECVPKTINFO);
  set_int(env, c, "IPV6_RECVHOPLIMIT", IPV6_RECVHOPLIMIT);
  set_int(env, c, "IPV6_V6ONLY", IPV6_V6ONLY);
  set_int(env, c, "ETH_P_ARP", 0x0806);
  set_int(env, c, "ETH_P_IPV6", 0x86dd);
  set_int(env, c, "SIZEOF_SOCKADDR_IN", sizeof(struct sockaddr_in));
  set_int(env, c, "SIZEOF_SOCKADDR_IN6", sizeof(struct sockaddr_in6));
  set_int(env, c, "SIZEOF_SOCKADDR_LL", sizeof(struct sockaddr_ll));
  return c;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"socket", NULL, js_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setsockopt", NULL, js_setsockopt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bind", NULL, js_bind, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendto", NULL, js_sendto, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writableStart", NULL, js_writable_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"attachFilter", NULL, js_attach_filter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ifNameToIndex", NULL, js_if_nametoindex, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recvStart", NULL, js_recv_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recvStop", NULL, js_recv_stop, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recvDrain", NULL, js_recv_drain, NULL, NULL, NULL, napi_enumerable, NULL},
      {"constants", NULL, NULL, NULL, NULL, constants(env), napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
