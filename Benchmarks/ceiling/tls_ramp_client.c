/*
 * A TLS connection-ramp load client in C: ramp_client.c over TLS (OpenSSL), to measure what a
 * TLS handshake costs the gateway (full handshake vs resumption, RSA vs ECDSA certificate) at
 * the least CPU per connection on the client side.
 *
 * Each client: TCP connect to 127.0.0.1:PORT, the TLS handshake, the WebSocket upgrade on
 * /socket.io/, the Engine.IO open packet, CONNECT to /prices, `subscribe` with an ack; latency
 * is connect start → ack. At most IN_FLIGHT clients at once; one thread, epoll, non-blocking
 * SSL_connect/SSL_read/SSL_write (WANT_READ/WANT_WRITE pick the epoll interest).
 *
 * Two waves of CLIENTS each: the first connects all (through the ack, so the TLS 1.3
 * NewSessionTickets, sent before any application data, have been read), keeps each session and
 * closes all; the second reconnects all, with --resume offering each client's saved session, and
 * without it as full handshakes (the same reconnect-wave shape either way). The report is about
 * the second wave. Certificates are not verified: a benchmark on loopback, where the cost under
 * test is the server's, and the client must not need the CA.
 *
 * Build: cc -O2 -o tls-ramp-client tls_ramp_client.c -lssl -lcrypto -lz
 * Run:   tls-ramp-client [options] PORT CLIENTS IN_FLIGHT
 *          --deflate          offer permessage-deflate (RFC 7692, as browsers do); a 101 that
 *                             does not agree to it fails the client; a compressed (RSV1) message
 *                             is inflated (the handshake's are small: plain at the default threshold)
 *          --resume           the second wave resumes the first wave's sessions
 *          --tls13-only       TLS 1.3 only (--tls12-only: TLS 1.2 only)
 *          --groups LIST      key-exchange groups, e.g. X25519 or P-256:X25519
 *          --ciphersuites L   TLS 1.3 suites in preference order (default: browsers' order,
 *                             TLS_AES_128_GCM_SHA256 first; OpenSSL's own puts AES-256/SHA-384 first)
 *          --server-pid PID   also report the server's CPU seconds during the second wave (and
 *                             µs per connection) and its VmRSS before, after wave 1, after wave 2
 *        → one JSON line: clients, resume, connected, errors (timeouts included), resumed (handshakes
 *          SSL_session_reused), resumable_sessions (kept from wave 1), seconds, rate (connections/s),
 *          p50_ms, p90_ms, p99_ms, max_ms, version, cipher, group, server_key (of the last handshake),
 *          wave1_{connected,rate,p99_ms}, client_cpu_us_per_conn, deflate,
 *          and with --server-pid: server_cpu_s, server_user_s, server_sys_s, server_cpu_us_per_conn,
 *          server_rss_kb_{before,after_wave1,after_wave2}, server_rss_bytes_per_conn (wave 1).
 *        Each wave is bounded by 60 s; loopback only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <time.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>
#include "ws_deflate.h"

enum { CONNECTING, HANDSHAKING, UPGRADING, OPENING, JOINING, SUBSCRIBING, DONE };
enum { PHASE_MS = 60000, IDLE_MS = 10000 };

typedef struct {
    int fd, state, resumed; uint32_t interest; SSL *ssl; SSL_SESSION *session; double started;
    size_t have, out_len; char buf[4096]; char out[512]; /* out: what SSL_write must be retried with */
} client_t;

typedef struct { int connected, errors, resumed; double seconds, *latency; } wave_t;

static client_t *clients;
static int total, in_flight, epfd, port;
static SSL_CTX *ctx;
static char request[640];
static int deflate_on;
static char version[32] = "", cipher[64] = "", group[32] = "", server_key[16] = "";

static double now_ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }

static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

/* utime+stime in seconds (user and system apart through *user, *sys when given), or -1. */
static double proc_cpu2(int pid, double *user, double *sys) {
    char path[64], line[2048]; snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r"); if (!f) return -1;
    size_t n = fread(line, 1, sizeof line - 1, f); fclose(f); line[n] = 0;
    char *p = strrchr(line, ')'); if (!p) return -1; /* the command name may hold spaces */
    unsigned long utime, stime;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) return -1;
    double tick = (double)sysconf(_SC_CLK_TCK);
    if (user) *user = utime / tick;
    if (sys) *sys = stime / tick;
    return (double)(utime + stime) / tick;
}

static double proc_cpu(int pid) { return proc_cpu2(pid, NULL, NULL); }

static double self_cpu(void) {
    struct rusage u; getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* VmRSS in kB, or -1. */
static long proc_rss_kb(int pid) {
    char path[64], line[256]; long kb = -1; snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r"); if (!f) return -1;
    while (fgets(line, sizeof line, f)) if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
    fclose(f); return kb;
}

static void want(client_t *c, uint32_t events, uint32_t index) {
    if (c->interest == events) return;
    struct epoll_event ev = { .events = events, .data.u32 = index };
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev); c->interest = events;
}

/* Pending output through SSL_write: 1 written (or nothing pending), 0 retry later, -1 failed. */
static int flush(client_t *c, uint32_t index) {
    if (!c->out_len) return 1;
    int r = SSL_write(c->ssl, c->out, (int)c->out_len);
    if (r > 0) { c->out_len = 0; return 1; }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_WRITE) { want(c, EPOLLIN | EPOLLOUT, index); return 0; }
    if (e == SSL_ERROR_WANT_READ) return 0;
    return -1;
}

/* A masked client text frame (mask key 0: valid, and nothing to compute). The protocol is
 * lockstep (each frame answers the server's last), so nothing is queued behind a pending write. */
static int send_text(client_t *c, uint32_t index, const char *text) {
    size_t len = strlen(text);
    c->out[0] = (char)0x81; c->out[1] = (char)(0x80 | len); memset(c->out + 2, 0, 4); memcpy(c->out + 6, text, len);
    c->out_len = 6 + len;
    return flush(c, index);
}

/* The next complete server frame's payload in c->buf (inflated when RSV1 is set), consumed;
 * 0 when none yet, -1 on a frame that cannot be read. */
static int next_frame(client_t *c, char *out, size_t cap, size_t *len) {
    if (c->have < 2) return 0;
    unsigned char *d = (unsigned char *)c->buf; size_t n = d[1] & 0x7f, off = 2;
    if (n == 126) { if (c->have < 4) return 0; n = ((size_t)d[2] << 8) | d[3]; off = 4; }
    else if (n == 127) return -1;
    if (c->have < off + n) return 0;
    if (d[0] & 0x40) { /* permessage-deflate */
        long m = inflate_message(c->buf + off, n, out, cap);
        if (m < 0) return -1;
        out[m] = 0; *len = (size_t)m;
    } else {
        size_t copy = n < cap - 1 ? n : cap - 1;
        memcpy(out, c->buf + off, copy); out[copy] = 0; *len = copy;
    }
    memmove(c->buf, c->buf + off + n, c->have - off - n); c->have -= off + n;
    return 1;
}

static void note_handshake(client_t *c) {
    snprintf(version, sizeof version, "%s", SSL_get_version(c->ssl));
    snprintf(cipher, sizeof cipher, "%s", SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl)));
    const char *g = SSL_group_to_name(c->ssl, SSL_get_negotiated_group(c->ssl));
    snprintf(group, sizeof group, "%s", g ? g : "");
    X509 *cert = SSL_get0_peer_certificate(c->ssl); /* on resumption: the session's */
    if (cert) {
        int type = EVP_PKEY_get_base_id(X509_get0_pubkey(cert));
        snprintf(server_key, sizeof server_key, "%s", type == EVP_PKEY_RSA ? "RSA" : type == EVP_PKEY_EC ? "EC" : "other");
    }
}

/* Advances one client as far as it can go; 1 acked, 0 not yet, -1 failed. */
static int drive(client_t *c, uint32_t index, uint32_t events) {
    if (events & (EPOLLERR | EPOLLHUP)) return -1;
    if (c->state == CONNECTING) {
        if (!(events & EPOLLOUT)) return 0;
        int err = 0; socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) return -1;
        c->state = HANDSHAKING;
    }
    if (c->state == HANDSHAKING) {
        int r = SSL_connect(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) { want(c, EPOLLIN, index); return 0; }
            if (e == SSL_ERROR_WANT_WRITE) { want(c, EPOLLIN | EPOLLOUT, index); return 0; }
            return -1;
        }
        c->resumed = SSL_session_reused(c->ssl);
        want(c, EPOLLIN, index);
        c->state = UPGRADING;
        size_t len = strlen(request); memcpy(c->out, request, len); c->out_len = len;
    }
    int f = flush(c, index);
    if (f < 0) return -1;
    if (f > 0 && c->interest != EPOLLIN) want(c, EPOLLIN, index);
    /* Read until OpenSSL needs the socket again: records it already holds make no epoll event. */
    for (;;) {
        int r = SSL_read(c->ssl, c->buf + c->have, (int)(sizeof c->buf - c->have));
        if (r <= 0) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) return 0;
            if (e == SSL_ERROR_WANT_WRITE) { want(c, EPOLLIN | EPOLLOUT, index); return 0; }
            return -1;
        }
        c->have += (size_t)r;
        if (c->state == UPGRADING) {
            char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
            if (!end) { if (c->have == sizeof c->buf) return -1; continue; }
            if (memcmp(c->buf, "HTTP/1.1 101", 12) != 0) return -1;
            if (deflate_on && !agrees_to_deflate(c->buf, end + 2)) return -1;
            size_t head = (size_t)(end + 4 - c->buf);
            memmove(c->buf, c->buf + head, c->have - head); c->have -= head;
            c->state = OPENING;
        }
        char text[1024]; size_t len; int got;
        while ((got = next_frame(c, text, sizeof text, &len)) > 0) {
            if (c->state == OPENING && text[0] == '0') {
                if (send_text(c, index, "40/prices,") < 0) return -1;
                c->state = JOINING;
            } else if (c->state == JOINING && strncmp(text, "40/prices,", 10) == 0) {
                if (send_text(c, index, "42/prices,1[\"subscribe\",{\"symbols\":[\"BTC/USDT\"]}]") < 0) return -1;
                c->state = SUBSCRIBING;
            } else if (c->state == JOINING && strncmp(text, "44/prices,", 10) == 0) return -1;
            else if (c->state == SUBSCRIBING && strncmp(text, "43/prices,1[", 12) == 0) {
                return strstr(text, "\"ok\":false") ? -1 : 1;
            }
        }
        if (got < 0) return -1;
    }
}

/* Closes a client: close_notify first, so OpenSSL keeps its session resumable. */
static void finish(client_t *c) {
    if (c->ssl) { SSL_shutdown(c->ssl); SSL_free(c->ssl); c->ssl = NULL; }
    if (c->fd >= 0) { close(c->fd); c->fd = -1; }
}

/* One wave of all clients; acked connections stay open (no longer read) until the caller closes them. */
static wave_t ramp(int resume) {
    wave_t w = { .latency = calloc((size_t)total, sizeof(double)) };
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int started = 0, active = 0, last = -1;
    double begin = now_ms(), progress = begin;
    struct epoll_event events[512];
    while (w.connected + w.errors < total) {
        while (active < in_flight && started < total) {
            client_t *c = &clients[started];
            c->state = CONNECTING; c->have = c->out_len = 0; c->resumed = 0;
            c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (c->fd < 0) { w.errors++; started++; continue; }
            int one = 1; setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->ssl = SSL_new(ctx); SSL_set_fd(c->ssl, c->fd); SSL_set_connect_state(c->ssl);
            if (resume && c->session) SSL_set_session(c->ssl, c->session);
            c->started = now_ms();
            if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) { w.errors++; finish(c); started++; continue; }
            struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = (uint32_t)started };
            c->interest = EPOLLOUT; epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
            started++; active++;
        }
        double now = now_ms();
        if (now - begin > PHASE_MS || now - progress > IDLE_MS) break; /* bounded: the rest count as errors */
        int n = epoll_wait(epfd, events, 512, 1000);
        for (int i = 0; i < n; i++) {
            uint32_t index = events[i].data.u32; client_t *c = &clients[index];
            if (c->state == DONE) continue;
            int r = drive(c, index, events[i].events);
            if (r == 0) continue;
            progress = now_ms(); active--; epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
            if (r > 0) { w.latency[w.connected++] = progress - c->started; w.resumed += c->resumed; c->state = DONE; last = (int)index; }
            else { w.errors++; c->state = DONE; finish(c); }
        }
    }
    w.seconds = (now_ms() - begin) / 1e3;
    w.errors = total - w.connected;
    if (last >= 0) note_handshake(&clients[last]);
    qsort(w.latency, (size_t)w.connected, sizeof(double), cmp);
    return w;
}

/* Closes every client, keeping (after wave 1) each acked client's session for the next wave. */
static void close_all(int keep) {
    for (int i = 0; i < total; i++) {
        client_t *c = &clients[i];
        if (c->fd >= 0 && c->state != DONE) epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        if (keep && c->ssl && c->state == DONE) c->session = SSL_get1_session(c->ssl);
        finish(c);
    }
}

/* Lets the server finish the closes (its CPU for them must not count in the measured wave). */
static void settle(int pid) {
    if (pid <= 0) { sleep(1); return; }
    double before = proc_cpu(pid);
    for (int i = 0; i < 50; i++) {
        usleep(200000);
        double cpu = proc_cpu(pid);
        if (cpu - before < 0.02) return; /* ≤ 10% of a core over 200 ms: idle */
        before = cpu;
    }
}

#define Q(w, q) ((w).connected ? (w).latency[(size_t)(((w).connected - 1) * (q))] : 0)

int main(int argc, char **argv) {
    int resume = 0, min_version = 0, max_version = 0, server_pid = 0; const char *groups = NULL;
    const char *suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
    static struct option options[] = {
        { "resume", no_argument, 0, 'r' }, { "tls13-only", no_argument, 0, '3' }, { "tls12-only", no_argument, 0, '2' },
        { "groups", required_argument, 0, 'g' }, { "server-pid", required_argument, 0, 'p' },
        { "ciphersuites", required_argument, 0, 'c' }, { "deflate", no_argument, 0, 'd' }, { 0, 0, 0, 0 } };
    for (int o; (o = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (o) {
        case 'r': resume = 1; break;
        case '3': min_version = max_version = TLS1_3_VERSION; break;
        case '2': min_version = max_version = TLS1_2_VERSION; break;
        case 'g': groups = optarg; break;
        case 'p': server_pid = atoi(optarg); break;
        case 'c': suites = optarg; break;
        case 'd': deflate_on = 1; break;
        default: goto usage;
        }
    }
    if (argc - optind < 3) {
    usage:
        fprintf(stderr, "usage: tls-ramp-client [--resume] [--tls13-only|--tls12-only] [--groups LIST] [--ciphersuites L] [--server-pid PID] [--deflate] PORT CLIENTS IN_FLIGHT\n");
        return 2;
    }
    port = atoi(argv[optind]); total = atoi(argv[optind + 1]); in_flight = atoi(argv[optind + 2]);
    struct rlimit nofile; /* one descriptor per client */
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) { nofile.rlim_cur = nofile.rlim_max; setrlimit(RLIMIT_NOFILE, &nofile); }

    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* loopback benchmark: no chain verification */
    if (min_version) { SSL_CTX_set_min_proto_version(ctx, min_version); SSL_CTX_set_max_proto_version(ctx, max_version); }
    if (groups && SSL_CTX_set1_groups_list(ctx, groups) != 1) { fprintf(stderr, "bad --groups %s\n", groups); return 2; }
    /* The server (BoringSSL) follows the client's order among AES-GCM suites: offer what browsers offer. */
    if (SSL_CTX_set_ciphersuites(ctx, suites) != 1) { fprintf(stderr, "bad --ciphersuites %s\n", suites); return 2; }
    /* Idle acked connections should not each hold OpenSSL's 16 kB+ read/write buffers. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    /* Sessions are kept by hand (SSL_get1_session); a client cache would only add lookups. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

    clients = calloc((size_t)total, sizeof *clients);
    for (int i = 0; i < total; i++) clients[i].fd = -1;
    epfd = epoll_create1(0);
    snprintf(request, sizeof request, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n", port,
             deflate_on ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "");

    long rss_before = server_pid ? proc_rss_kb(server_pid) : -1;
    wave_t first = ramp(0);
    long rss_first = server_pid ? proc_rss_kb(server_pid) : -1;
    int resumable = 0;
    close_all(1);
    for (int i = 0; i < total; i++) resumable += clients[i].session && SSL_SESSION_is_resumable(clients[i].session);
    settle(server_pid);
    double user0 = 0, sys0 = 0, user1 = 0, sys1 = 0;
    double cpu_before = server_pid ? proc_cpu2(server_pid, &user0, &sys0) : -1, client_before = self_cpu();
    wave_t second = ramp(resume);
    double cpu = server_pid ? proc_cpu2(server_pid, &user1, &sys1) - cpu_before : -1, client = self_cpu() - client_before;
    long rss_second = server_pid ? proc_rss_kb(server_pid) : -1;

    printf("{\"clients\":%d,\"resume\":%s,\"connected\":%d,\"errors\":%d,\"resumed\":%d,\"resumable_sessions\":%d,"
           "\"seconds\":%.3f,\"rate\":%.0f,\"p50_ms\":%.1f,\"p90_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f,"
           "\"version\":\"%s\",\"cipher\":\"%s\",\"group\":\"%s\",\"server_key\":\"%s\","
           "\"wave1_connected\":%d,\"wave1_rate\":%.0f,\"wave1_p99_ms\":%.1f,\"client_cpu_us_per_conn\":%.0f",
           total, resume ? "true" : "false", second.connected, second.errors, second.resumed, resumable,
           second.seconds, second.seconds > 0 ? second.connected / second.seconds : 0, Q(second, 0.5), Q(second, 0.9), Q(second, 0.99),
           second.connected ? second.latency[second.connected - 1] : 0, version, cipher, group, server_key,
           first.connected, first.seconds > 0 ? first.connected / first.seconds : 0, Q(first, 0.99),
           second.connected ? client * 1e6 / second.connected : 0);
    if (server_pid)
        printf(",\"server_cpu_s\":%.2f,\"server_user_s\":%.2f,\"server_sys_s\":%.2f,\"server_cpu_us_per_conn\":%.0f,\"server_rss_kb_before\":%ld,"
               "\"server_rss_kb_after_wave1\":%ld,\"server_rss_kb_after_wave2\":%ld,\"server_rss_bytes_per_conn\":%.0f",
               cpu, user1 - user0, sys1 - sys0, second.connected ? cpu * 1e6 / second.connected : 0, rss_before, rss_first, rss_second,
               first.connected ? (rss_first - rss_before) * 1024.0 / first.connected : 0);
    printf(",\"deflate\":%s}\n", deflate_on ? "true" : "false");
    fflush(stdout);
    close_all(0);
    return 0;
}
