/*
 * A fan-out load client in C: what gateway-bench's `fanout` and `symbols` do, at less CPU per
 * message than the server it measures, so that the server and not the client is what a
 * fan-out run measures. It speaks the subset both the gateway and the ceiling server speak.
 *
 * Subscribers: N WebSocket clients (/socket.io/, Engine.IO open packet, CONNECT to /prices,
 * `subscribe` with an ack), at most IN_FLIGHT handshakes at once; client i takes symbols
 * (i*K + j) mod S, j < K. They answer Engine.IO pings (`2` → `3`) and WebSocket pings, and count
 * each `price.update` text frame. Producers: P keep-alive connections POSTing JSON arrays of B
 * ticks to /api/v1/market, up to W pipelined requests each, paced open-loop at RATE ticks/s
 * (due batches wait when every window is full: the achieved rate is then a finding); an
 * optional probe connection posts single ticks at PROBE_RATE/s, its round trips kept apart.
 *
 * Latency: each tick carries its send time (CLOCK_REALTIME): `ts` in whole ms, and the µs
 * within that ms as the decimals of `volume` ("1.UUU"). Both servers pass `volume` through as
 * the producer wrote it (the gateway keeps a decimal string's text), and the decimals are read
 * as a fraction, so a server that dropped trailing zeros would still be read right. Only ticks
 * sent after the warm-up count; the run ends DRAIN seconds after the last tick, or sooner once
 * every expected delivery (accepted measured ticks × the symbol's subscribers) has arrived.
 *
 * Batches the warm-up could not send are dropped, so the measured window only offers its own.
 *
 * CPU: the client's own (getrusage) and, with --server-pid, the server's (/proc/PID/stat) over
 * the measured window, also per 1,000 frames received in that window. The server's VmRSS is
 * read before subscribing, once subscribed, and at the window's end. Over 90 % of the client's
 * CPU is the kernel's: one read per server write, and the ACK that read sends back over
 * loopback. So against the ceiling server (also one write per subscriber per pass) the client
 * costs nearly as much per delivery (0.7-0.9×); against the gateway, 0.3-0.5×.
 *
 * One thread, epoll, loopback only; no allocation per message: frames are parsed where they
 * were read, in one shared 64 KiB-chunk buffer; a connection keeps only a partial frame.
 *
 * --deflate: every subscriber offers permessage-deflate (RFC 7692, as browsers do:
 * `permessage-deflate; client_max_window_bits`) and a 101 without it is a connect error. The
 * server's compressed frames (RSV1) are raw DEFLATE without context takeover, the sync-flush
 * tail removed: one z_stream for the process, inflateReset per message, output bounded to
 * 64 KiB. To keep the client's CPU per message below the server's, a subscribed socket inflates
 * only 1 in --inflate-every N (8) of its compressed messages, for the latency sample; the others
 * count as deliveries unread. Which of them are measured (sent after the warm-up): frames arrive
 * in send order, so a socket inflates every compressed message from the window's start until
 * one is a measured tick, and counts every later one. (Warm-up frames are not inflated at all;
 * tiny compressed frames, never a price.update, are always inflated: a ping must be answered.)
 * The JSON line then also shows compressed and plain frames received and the bytes read per
 * delivery in the measured window (frame headers included: what the wire carried).
 *
 * Build: cc -O2 -o fanout-client fanout_client.c -lz
 * Run:   fanout-client --port PORT --token JWT --symbols A,B,C [--subscribers N] [--per-client K]
 *        [--rate R] [--seconds S] [--probe-rate R2] [--server-pid PID] ...   (--help lists all)
 *        → one JSON line on stdout; progress and errors on stderr. Exit 0 once it ran, 2 on a
 *        usage error, 3 when fewer than 90 % of the subscribers subscribed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "ws_deflate.h"

#define READ_CHUNK 65536
#define MAX_FRAME (4u << 20)       /* a larger server frame closes the connection */
#define MAX_WINDOW 1024            /* pipelined POSTs per producer connection */
#define PRODUCER_TAG 0x80000000u   /* epoll data: producers have the top bit, subscribers not */

enum { CONNECTING, UPGRADING, OPENING, JOINING, SUBSCRIBING, SUBSCRIBED, GONE };
enum { WARMING, MEASURING, DRAINING };

/* ---- clocks and histograms ---- */

static double mono_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static int64_t real_us(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000; }

/* Log-linear in µs: exact below 64, then 64 buckets per power of two (≤ 1.6 % wide), to 100 s
 * (2^27 µs); a fixed array, so recording costs no allocation. */
#define BUCKETS (64 + 21 * 64)
typedef struct { uint64_t count[BUCKETS], n; double max; } hist_t;

static int bucket_of(uint64_t v) {
    if (v < 64) return (int)v;
    int e = 63 - __builtin_clzll(v);
    return 64 + (e - 6) * 64 + (int)((v >> (e - 6)) & 63);
}

static double bucket_mid(int b) {
    if (b < 64) return b;
    int e = (b - 64) / 64 + 6, m = (b - 64) % 64;
    return (double)((uint64_t)(64 + m) << (e - 6)) + (double)((uint64_t)1 << (e - 6)) / 2;
}

static void hist_add(hist_t *h, double us) {
    if (us < 0) us = 0;
    if (us > 1e8) us = 1e8;
    h->count[bucket_of((uint64_t)us)]++; h->n++;
    if (us > h->max) h->max = us;
}

/* The q-quantile in ms (a bucket's middle, never above the largest seen). */
static double hist_ms(const hist_t *h, double q) {
    if (!h->n) return 0;
    uint64_t rank = (uint64_t)(q * (double)h->n + 0.999999), seen = 0;
    if (rank < 1) rank = 1;
    for (int b = 0; b < BUCKETS; b++)
        if ((seen += h->count[b]) >= rank) { double v = bucket_mid(b); return (v > h->max ? h->max : v) / 1e3; }
    return h->max / 1e3;
}

/* ---- options and shared state ---- */

static int port, ingest_port, nsubs = 1000, in_flight = 1000, per_client = 1, server_pid;
static double rate = 5000, probe_rate, seconds = 3, warmup = 1, drain = 2, subscribe_timeout = 60;
static int nproducers = 4, batch = 10, pipeline = 16, probe_pipeline = 16;
static const char *token = "", *label = "fanout";
static char **symbols; static int *symbol_len, nsymbols; static long *symbol_subs;

static int epfd;
static char *scratch;                       /* one partial frame + one read, parsed in place */
static int phase = WARMING;
static int64_t measure_from_us = INT64_MAX; /* CLOCK_REALTIME: ticks sent from here are measured */
static hist_t latency;
static long received, delivered, expected, connect_errors, closed, subscribed, post_errors, reads;

/* --deflate: the offer, what arrived compressed or plain, what was inflated, the bytes read. */
static int deflate_on, inflate_every = 8;
static long compressed_frames, plain_frames, inflated_frames, inflate_errors, deflate_refused, bytes_read;
#define INFLATE_OUT 65536
static z_stream zs; static int zs_ready;
static char inflated[INFLATE_OUT];

/* ---- subscribers ---- */

/* measured, skip: --deflate only (a measured tick was inflated; compressed frames since the last inflate). */
typedef struct { int fd, state; char *carry; uint32_t have, cap; uint16_t skip; uint8_t measured; } sub_t;
static sub_t *subs;
static int handshaking;

/* A masked client frame (mask key 0: valid, and nothing to compute). Short control and
 * handshake messages only: the socket's send buffer takes them whole. */
static void send_frame(int fd, int first_byte, const char *data, size_t len) {
    char frame[8192]; size_t off = 2;
    if (len > sizeof frame - 8) return;
    frame[0] = (char)first_byte;
    if (len < 126) frame[1] = (char)(0x80 | len);
    else { frame[1] = (char)(0x80 | 126); frame[2] = (char)(len >> 8); frame[3] = (char)len; off = 4; }
    memset(frame + off, 0, 4); memcpy(frame + off + 4, data, len);
    if (write(fd, frame, off + 4 + len) < 0) { /* the read side notices */ }
}

static void send_text(int fd, const char *text) { send_frame(fd, 0x81, text, strlen(text)); }

static void send_subscribe(int i) {
    char m[8000]; size_t n = (size_t)snprintf(m, sizeof m, "42/prices,1[\"subscribe\",{\"symbols\":[");
    for (int j = 0; j < per_client; j++) {
        int s = (int)(((long)i * per_client + j) % nsymbols);
        n += (size_t)snprintf(m + n, sizeof m - n, "%s\"%s\"", j ? "," : "", symbols[s]);
    }
    snprintf(m + n, sizeof m - n, "]}]");
    send_text(subs[i].fd, m);
}

/* The hot path reads each frame with a few byte compares: glibc's memmem costs more on
 * ~150-byte frames than everything else the client does per delivery. */

/* The event name is the first string of the array: `42[/nsp,][ack]["price.update",...`. */
static int is_price_update(const char *p, size_t n) {
    if (n < 20 || p[0] != '4' || p[1] != '2') return 0;
    const char *open = memchr(p + 2, '[', n - 2 < 40 ? n - 2 : 40);
    return open && (size_t)(p + n - open) > 15 && memcmp(open, "[\"price.update\"", 15) == 0;
}

/* Where the last `"ts":` starts: both servers write ts at or near the end. */
static const char *last_ts(const char *p, size_t n) {
    for (size_t i = n; i >= 5; i--)
        if (p[i - 1] == ':' && p[i - 2] == '"' && p[i - 3] == 's' && p[i - 4] == 't' && p[i - 5] == '"') return p + i - 5;
    return NULL;
}

/* `"volume":"I.F"` ending at the quote q: F as µs (up to 3 digits, read as a fraction), or -1. */
static int64_t fraction_us(const char *p, const char *q) {
    const char *d = q, *i;
    while (d > p && d[-1] >= '0' && d[-1] <= '9') d--;
    if (d == q || d == p || d[-1] != '.') return -1;
    for (i = d - 1; i > p && i[-1] >= '0' && i[-1] <= '9'; i--) {}
    if (i - p < 10 || memcmp(i - 10, "\"volume\":\"", 10) != 0) return -1;
    int64_t us = 0; int digits = 0;
    for (; d < q && digits < 3; d++, digits++) us = us * 10 + (*d - '0');
    for (; digits < 3; digits++) us *= 10;
    return us;
}

/* The µs within the send ms: both servers write volume right before ts
 * (`"volume":"1.UUU","ts":`); anywhere else it is searched for. */
static int64_t volume_us(const char *p, size_t n, const char *ts) {
    if (ts - p >= 16 && ts[-1] == ',' && ts[-2] == '"') {
        int64_t us = fraction_us(p, ts - 2);
        if (us >= 0) return us;
    }
    const char *v = memmem(p, n, "\"volume\":\"", 10), *q;
    if (!v || !(q = memchr(v + 10, '"', (size_t)(p + n - v - 10)))) return 0;
    int64_t us = fraction_us(p, q);
    return us < 0 ? 0 : us;
}

static void on_price_update(const char *p, size_t n, int64_t now) {
    received++;
    const char *t = last_ts(p, n), *end = p + n;
    if (!t) return;
    int64_t ms = 0;
    for (const char *d = t + 5; d < end && *d >= '0' && *d <= '9'; d++) ms = ms * 10 + (*d - '0');
    int64_t sent = ms * 1000 + volume_us(p, n, t);
    if (sent < measure_from_us) return; /* a warm-up tick */
    delivered++;
    hist_add(&latency, (double)(now - sent));
}

static void subscribed_now(int i) {
    subs[i].state = SUBSCRIBED; subscribed++; handshaking--;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = (uint32_t)i }; /* reports data already queued */
    epoll_ctl(epfd, EPOLL_CTL_MOD, subs[i].fd, &ev);
    for (int j = 0; j < per_client; j++) symbol_subs[((long)i * per_client + j) % nsymbols]++;
}

/* One text message; -1 ends the connection. */
static int on_text(int i, const char *p, size_t n, int64_t now) {
    sub_t *s = &subs[i];
    if (s->state == SUBSCRIBED) { /* the hot path */
        if (is_price_update(p, n)) on_price_update(p, n, now);
        else if (n == 1 && p[0] == '2') send_text(s->fd, "3");
        return 0;
    }
    if (n == 1 && p[0] == '2') { send_text(s->fd, "3"); return 0; }
    if (s->state == OPENING && n > 0 && p[0] == '0') { send_text(s->fd, "40/prices,"); s->state = JOINING; }
    else if (s->state == JOINING && n >= 10 && memcmp(p, "40/prices,", 10) == 0) { send_subscribe(i); s->state = SUBSCRIBING; }
    else if (s->state == JOINING && n >= 10 && memcmp(p, "44/prices,", 10) == 0) return -1;
    else if (s->state == SUBSCRIBING && n >= 12 && memcmp(p, "43/prices,1[", 12) == 0) {
        if (memmem(p, n, "\"ok\":false", 10)) return -1;
        subscribed_now(i);
    }
    return 0;
}

/* One permessage-deflate message (RFC 7692 §7.2.2): the tail 00 00 ff ff added back, inflated
 * into `inflated` by the process's one raw inflater. Its length; -2 when it would not fit in
 * INFLATE_OUT, -1 when the bytes do not inflate. */
static long inflate_tick(const char *p, size_t n) {
    static const unsigned char tail[4] = { 0x00, 0x00, 0xff, 0xff };
    if (!zs_ready) { if (inflateInit2(&zs, -15) != Z_OK) return -1; zs_ready = 1; } else inflateReset(&zs);
    zs.next_out = (Bytef *)inflated; zs.avail_out = INFLATE_OUT;
    zs.next_in = (Bytef *)(uintptr_t)p; zs.avail_in = (uInt)n;
    int r = inflate(&zs, Z_SYNC_FLUSH);
    if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END) return -1;
    if (zs.avail_in) return zs.avail_out ? -1 : -2;
    zs.next_in = (Bytef *)(uintptr_t)tail; zs.avail_in = 4;
    r = inflate(&zs, Z_SYNC_FLUSH);
    if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END) return -1;
    if (zs.avail_out == 0) return -2; /* perhaps more to come: not a message of ours */
    return (long)(INFLATE_OUT - zs.avail_out);
}

/* One compressed text message (RSV1); -1 ends the connection. A subscribed socket inflates 1 in
 * inflate_every (all of them from the window's start until one is a measured tick; none during
 * the warm-up, whose ticks are not measured); the others count as price.update deliveries. */
static int on_compressed(int i, const char *p, size_t n, int64_t now) {
    sub_t *s = &subs[i];
    compressed_frames++;
    int subscribed_socket = s->state == SUBSCRIBED, tiny = n < 16; /* a compressed price.update is larger */
    if (subscribed_socket && !tiny) {
        int sample = phase != WARMING && (!s->measured || ++s->skip >= inflate_every);
        if (!sample) { received++; if (s->measured) delivered++; return 0; }
        s->skip = 0;
    }
    long len = inflate_tick(p, n);
    if (len < 0) {
        inflate_errors++;
        if (len == -1 || !subscribed_socket) return -1;
        received++; if (s->measured) delivered++; /* too large to sample: counted all the same */
        return 0;
    }
    inflated_frames++;
    long before = delivered;
    int r = on_text(i, inflated, (size_t)len, now);
    if (delivered > before) s->measured = 1;
    return r;
}

/* Complete server frames in buf; returns the bytes consumed, or -1 to end the connection. */
static long on_frames(int i, char *buf, size_t len, int64_t now) {
    size_t pos = 0;
    while (len - pos >= 2) {
        unsigned char *d = (unsigned char *)buf + pos;
        size_t avail = len - pos, n = d[1] & 0x7f, off = 2;
        if (d[1] & 0x80) return -1; /* a server never masks */
        if (n == 126) { if (avail < 4) break; n = ((size_t)d[2] << 8) | d[3]; off = 4; }
        else if (n == 127) { if (avail < 10) break; n = 0; for (int k = 0; k < 8; k++) n = (n << 8) | d[2 + k]; off = 10; }
        if (n > MAX_FRAME) return -1;
        if (avail < off + n) break;
        int opcode = d[0] & 0x0f, rsv1 = d[0] & 0x40; char *p = (char *)d + off;
        if (opcode == 1 && rsv1) { if (on_compressed(i, p, n, now) < 0) return -1; } /* permessage-deflate */
        else if (opcode == 1 || opcode == 2) { plain_frames++; if (opcode == 1 && on_text(i, p, n, now) < 0) return -1; }
        if (opcode == 8) return -1;
        if (opcode == 9) send_frame(subs[i].fd, 0x8a, p, n);
        pos += off + n;
    }
    return (long)pos;
}

static void drop_subscriber(int i) {
    sub_t *s = &subs[i];
    if (s->state == GONE) return;
    if (s->state == SUBSCRIBED) closed++; else { connect_errors++; handshaking--; }
    epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL); close(s->fd);
    s->state = GONE; free(s->carry); s->carry = NULL;
}

static void start_subscriber(int i, const struct sockaddr_in *addr) {
    sub_t *s = &subs[i];
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s->fd < 0) { s->state = GONE; connect_errors++; return; }
    s->cap = 512; s->carry = malloc(s->cap); s->have = 0; s->state = CONNECTING; handshaking++;
    int one = 1; setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i };
    if ((connect(s->fd, (const struct sockaddr *)addr, sizeof *addr) < 0 && errno != EINPROGRESS)
        || epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
        close(s->fd); connect_errors++; handshaking--; s->state = GONE; free(s->carry); s->carry = NULL;
    }
}

static char upgrade[640];

/* One read, the partial frame kept from the last read first; the bytes read, 0 if none. */
static ssize_t read_subscriber(int i) {
    sub_t *s = &subs[i];
    memcpy(scratch, s->carry, s->have);
    ssize_t r = read(s->fd, scratch + s->have, READ_CHUNK);
    reads++;
    if (r < 0 && errno == EAGAIN) return 0;
    if (r <= 0) { drop_subscriber(i); return 0; }
    bytes_read += r;
    int64_t now = real_us(); /* one clock read per read: its frames all arrived by now */
    size_t len = s->have + (size_t)r, start = 0;
    if (s->state == UPGRADING) {
        char *end = memmem(scratch, len, "\r\n\r\n", 4);
        if (!end) { if (len > 8192) { drop_subscriber(i); return 0; } goto keep; }
        if (len < 12 || memcmp(scratch + 9, "101", 3) != 0) { drop_subscriber(i); return 0; }
        if (deflate_on && !agrees_to_deflate(scratch, end + 2)) { /* a connect error, as any other failed handshake */
            if (!deflate_refused++) fprintf(stderr, "fanout-client: the 101 did not agree to permessage-deflate\n");
            drop_subscriber(i); return 0;
        }
        start = (size_t)(end + 4 - scratch);
        s->state = OPENING;
    }
    long used = on_frames(i, scratch + start, len - start, now);
    if (used < 0) { drop_subscriber(i); return 0; }
    start += (size_t)used;
keep:
    len -= start;
    if (len > s->cap) { /* only a frame larger than any before grows this */
        if (len > MAX_FRAME + 16) { drop_subscriber(i); return 0; }
        while (s->cap < len) s->cap *= 2;
        s->carry = realloc(s->carry, s->cap);
    }
    memcpy(s->carry, scratch + start, len); s->have = (uint32_t)len;
    return r;
}

static void on_subscriber(int i, uint32_t events) {
    sub_t *s = &subs[i];
    if (s->state == GONE) return;
    if (s->state == CONNECTING) {
        if (events & (EPOLLERR | EPOLLHUP)) { drop_subscriber(i); return; }
        if (!(events & EPOLLOUT)) return;
        if (write(s->fd, upgrade, strlen(upgrade)) < 0) { drop_subscriber(i); return; }
        s->state = UPGRADING;
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
        epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
        return;
    }
    /* Subscribed sockets are edge-triggered (no re-poll of each ready socket on every pass):
     * read until a short read, which leaves the receive queue empty. */
    while (read_subscriber(i) == READ_CHUNK && s->state == SUBSCRIBED) {}
}

/* ---- producers ---- */

typedef struct { double sent; int symbol, ticks, measured; } post_t;
typedef struct group group_t;
typedef struct {
    int fd, dead, want_out, head, outstanding;
    group_t *group;
    char *out; size_t out_len, out_cap;
    char in[READ_CHUNK]; size_t in_len;
    post_t ring[MAX_WINDOW];
} producer_t;

struct group {
    const char *name; double rate; int batch, window, nconns, next_conn, cursor;
    producer_t *conns;
    long issued, sent, accepted, rejected;   /* sent/accepted/rejected: measured ticks */
    int reported;                            /* the first refusal goes to stderr */
    hist_t round_trip;
};
static group_t mainline, probe;
static char *body; static size_t body_cap;

static void want_out(producer_t *c, int on) {
    if (c->want_out == on) return;
    c->want_out = on;
    struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u32 = PRODUCER_TAG | (uint32_t)(c - c->group->conns) | (c->group == &probe ? 0x40000000u : 0) };
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void producer_dead(producer_t *c) {
    if (c->dead) return;
    fprintf(stderr, "fanout-client: a %s producer connection closed with %d POSTs outstanding\n", c->group->name, c->outstanding);
    for (; c->outstanding; c->outstanding--, c->head = (c->head + 1) % MAX_WINDOW)
        if (c->ring[c->head].measured) c->group->rejected += c->ring[c->head].ticks;
    c->dead = 1; post_errors++;
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd);
}

static void flush_out(producer_t *c) {
    while (c->out_len) {
        ssize_t w = write(c->fd, c->out, c->out_len);
        if (w > 0) { memmove(c->out, c->out + w, c->out_len - (size_t)w); c->out_len -= (size_t)w; continue; }
        if (w < 0 && errno == EAGAIN) { want_out(c, 1); return; }
        producer_dead(c); return;
    }
    want_out(c, 0);
}

static char *put(char *p, const char *s, size_t n) { memcpy(p, s, n); return p + n; }
#define PUT(p, lit) put(p, lit, sizeof lit - 1)

static char *put_int(char *p, int64_t v, int width) {
    char digits[24]; int n = 0;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n < width) digits[n++] = '0';
    while (n) *p++ = digits[--n];
    return p;
}

/* One POST of `ticks` ticks, all stamped now; written at once (or queued if the socket is full). */
static void post_batch(producer_t *c, int ticks) {
    group_t *g = c->group;
    int64_t now = real_us();
    char *b = body; *b++ = '[';
    int first = g->cursor;
    for (int k = 0; k < ticks; k++) {
        int s = (first + k) % nsymbols;
        if (k) *b++ = ',';
        b = PUT(b, "{\"type\":\"tick\",\"symbol\":\"");
        b = put(b, symbols[s], (size_t)symbol_len[s]);
        b = PUT(b, "\",\"price\":\"100.5\",\"bid\":\"100.5\",\"ask\":\"100.5\",\"volume\":\"1.");
        b = put_int(b, now % 1000, 3);
        b = PUT(b, "\",\"ts\":");
        b = put_int(b, now / 1000, 1);
        *b++ = '}';
    }
    *b++ = ']';
    size_t blen = (size_t)(b - body);
    char *o = c->out + c->out_len;
    o += sprintf(o, "POST /api/v1/market HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", port, token, blen);
    o = put(o, body, blen);
    c->out_len = (size_t)(o - c->out);
    post_t *p = &c->ring[(c->head + c->outstanding) % MAX_WINDOW];
    p->sent = mono_us(); p->symbol = first; p->ticks = ticks; p->measured = phase == MEASURING;
    c->outstanding++;
    g->cursor = (first + ticks) % nsymbols; g->issued++;
    if (p->measured) g->sent += ticks;
    if (!c->want_out) flush_out(c);
}

static long due_by(const group_t *g, double elapsed_us) { return (long)(g->rate * elapsed_us / 1e6 / g->batch); }

/* Batches the warm-up could not send are dropped, not sent in the measured window. */
static void skip_backlog(group_t *g, double elapsed_us) {
    long due = due_by(g, elapsed_us);
    if (g->rate > 0 && g->issued < due) g->issued = due;
}

/* Open loop: the batches due by now go to connections with room; the rest wait. */
static void pace(group_t *g, double elapsed_us) {
    if (g->rate <= 0) return;
    long due = due_by(g, elapsed_us);
    while (g->issued < due) {
        producer_t *c = NULL;
        for (int k = 0; k < g->nconns && !c; k++) {
            producer_t *t = &g->conns[(g->next_conn + k) % g->nconns];
            if (!t->dead && t->outstanding < g->window) c = t;
        }
        if (!c) return; /* every window is full */
        g->next_conn = (int)(c - g->conns + 1) % g->nconns;
        post_batch(c, g->batch);
    }
}

/* One response in c->in: its length, or 0 when incomplete. */
static size_t response_length(producer_t *c, int *status) {
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end + 4 - c->in), body_len = 0;
    *status = c->in_len >= 12 ? atoi(c->in + 9) : 0;
    int chunked = 0;
    for (char *line = memmem(c->in, head, "\r\n", 2); line && line + 2 < end; line = memmem(line + 2, (size_t)(end - line), "\r\n", 2)) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0) body_len = strtoul(line + 17, NULL, 10);
        else if (strncasecmp(line + 2, "Transfer-Encoding:", 18) == 0 && memmem(line, (size_t)(end - line), "chunked", 7)) chunked = 1;
    }
    if (!chunked) return c->in_len >= head + body_len ? head + body_len : 0;
    size_t pos = head; /* chunks, then the empty trailer */
    for (;;) {
        char *eol = memmem(c->in + pos, c->in_len - pos, "\r\n", 2);
        if (!eol) return 0;
        size_t size = strtoul(c->in + pos, NULL, 16);
        pos = (size_t)(eol + 2 - c->in);
        if (size == 0) return c->in_len >= pos + 2 ? pos + 2 : 0;
        pos += size + 2;
        if (pos > c->in_len) return 0;
    }
}

static void on_response(producer_t *c, int status) {
    group_t *g = c->group;
    if (!c->outstanding) { producer_dead(c); return; } /* an answer to nothing */
    post_t *p = &c->ring[c->head];
    c->head = (c->head + 1) % MAX_WINDOW; c->outstanding--;
    if (p->measured) hist_add(&g->round_trip, mono_us() - p->sent);
    int ok = status >= 200 && status < 300;
    if (!ok && !g->reported++) fprintf(stderr, "fanout-client: POST answered %d: %.300s\n", status, c->in);
    if (!p->measured) return;
    if (!ok) { g->rejected += p->ticks; return; }
    g->accepted += p->ticks;
    for (int k = 0; k < p->ticks; k++) expected += symbol_subs[(p->symbol + k) % nsymbols];
}

static void on_producer(producer_t *c, uint32_t events) {
    if (c->dead) return;
    if (events & EPOLLOUT) flush_out(c);
    if (c->dead || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    ssize_t r = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
    if (r < 0 && errno == EAGAIN) return;
    if (r <= 0) { producer_dead(c); return; }
    c->in_len += (size_t)r;
    int status; size_t n;
    while (!c->dead && (n = response_length(c, &status)) > 0) {
        on_response(c, status);
        memmove(c->in, c->in + n, c->in_len - n); c->in_len -= n;
    }
    if (c->in_len == sizeof c->in) producer_dead(c); /* a response larger than 64 KiB: not ours */
}

static int open_group(group_t *g, const char *name, double r, int b, int w, int n, const struct sockaddr_in *addr) {
    g->name = name; g->rate = r; g->batch = b; g->window = w; g->nconns = n;
    g->conns = calloc((size_t)n, sizeof *g->conns);
    for (int k = 0; k < n; k++) {
        producer_t *c = &g->conns[k];
        c->group = g;
        c->out_cap = (size_t)w * ((size_t)b * 256 + 1024 + strlen(token));
        c->out = malloc(c->out_cap);
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->fd < 0 || connect(c->fd, (const struct sockaddr *)addr, sizeof *addr) < 0) {
            fprintf(stderr, "fanout-client: cannot connect a producer: %s\n", strerror(errno)); return -1;
        }
        int one = 1; setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = PRODUCER_TAG | (uint32_t)k | (g == &probe ? 0x40000000u : 0) };
        epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    }
    return 0;
}

static int outstanding(const group_t *g) {
    int n = 0;
    for (int k = 0; k < g->nconns; k++) if (!g->conns[k].dead) n += g->conns[k].outstanding + (g->conns[k].out_len > 0);
    return n;
}

/* ---- the loop, CPU and memory ---- */

static void dispatch(struct epoll_event *events, int n) {
    for (int k = 0; k < n; k++) {
        uint32_t id = events[k].data.u32;
        if (id & PRODUCER_TAG) on_producer(&((id & 0x40000000u) ? &probe : &mainline)->conns[id & 0x3fffffffu], events[k].events);
        else on_subscriber((int)id, events[k].events);
    }
}

static double cpu_seconds(void) {
    struct rusage u; getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* utime + stime of PID in seconds (fields 14 and 15, after the command's closing paren). */
static double server_cpu(void) {
    char path[64], text[1024]; snprintf(path, sizeof path, "/proc/%d/stat", server_pid);
    FILE *f = fopen(path, "r"); if (!f) return -1;
    size_t n = fread(text, 1, sizeof text - 1, f); fclose(f); text[n] = 0;
    char *p = strrchr(text, ')'); if (!p) return -1;
    unsigned long utime, stime;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static long server_rss_kb(void) {
    char path[64], line[256]; long kb = -1; snprintf(path, sizeof path, "/proc/%d/status", server_pid);
    FILE *f = fopen(path, "r"); if (!f) return -1;
    while (fgets(line, sizeof line, f)) if (strncmp(line, "VmRSS:", 6) == 0) { kb = atol(line + 6); break; }
    fclose(f); return kb;
}

static void usage(void) {
    fprintf(stderr,
        "usage: fanout-client --port PORT [options]   (loopback only)\n"
        "  --subscribers N (1000)  --in-flight N (1000)  --symbols A,B,... (5 majors /USDT)  --per-client K (1)\n"
        "  --rate TICKS/S (5000)  --seconds S (3)  --warmup S (1)  --drain S (2)  --subscribe-timeout S (60)\n"
        "  --producers P (4)  --batch B (10)  --pipeline W (16)  --token JWT\n"
        "  --probe-rate TICKS/S (0: off)  --probe-pipeline W (16)  --server-pid PID  --label TEXT\n"
        "  --ingest-port PORT (the producers post there; default: --port)\n"
        "  --deflate (offer permessage-deflate; off: plain)  --inflate-every N (8: inflate 1 in N compressed messages)\n");
}

static int parse_symbols(char *list) {
    int cap = 1; for (char *p = list; *p; p++) cap += *p == ',';
    symbols = calloc((size_t)cap, sizeof *symbols); symbol_len = calloc((size_t)cap, sizeof *symbol_len);
    for (char *save, *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        if (strlen(s) > 64 || strpbrk(s, "\"\\")) return -1;
        symbols[nsymbols] = s; symbol_len[nsymbols++] = (int)strlen(s);
    }
    symbol_subs = calloc((size_t)(nsymbols ? nsymbols : 1), sizeof *symbol_subs);
    return nsymbols ? 0 : -1;
}

/* A number for the JSON line, or null. */
static const char *number(char *cell, int ok, const char *format, double v) {
    if (!ok) return "null";
    snprintf(cell, 48, format, v); return cell;
}

int main(int argc, char **argv) {
    static struct option options[] = {
        {"port", 1, 0, 'p'}, {"subscribers", 1, 0, 'n'}, {"in-flight", 1, 0, 'f'}, {"symbols", 1, 0, 's'},
        {"per-client", 1, 0, 'k'}, {"rate", 1, 0, 'r'}, {"seconds", 1, 0, 't'}, {"warmup", 1, 0, 'w'},
        {"drain", 1, 0, 'd'}, {"producers", 1, 0, 'P'}, {"batch", 1, 0, 'b'}, {"pipeline", 1, 0, 'W'},
        {"probe-rate", 1, 0, 'R'}, {"probe-pipeline", 1, 0, 'X'}, {"token", 1, 0, 'T'}, {"server-pid", 1, 0, 'S'},
        {"label", 1, 0, 'l'}, {"ingest-port", 1, 0, 'I'}, {"subscribe-timeout", 1, 0, 'o'}, {"deflate", 0, 0, 'D'},
        {"inflate-every", 1, 0, 'N'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    char default_symbols[] = "BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT", *symbol_list = default_symbols;
    for (int o; (o = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (o) {
        case 'p': port = atoi(optarg); break;          case 'n': nsubs = atoi(optarg); break;
        case 'f': in_flight = atoi(optarg); break;     case 's': symbol_list = optarg; break;
        case 'k': per_client = atoi(optarg); break;    case 'r': rate = atof(optarg); break;
        case 't': seconds = atof(optarg); break;       case 'w': warmup = atof(optarg); break;
        case 'd': drain = atof(optarg); break;         case 'P': nproducers = atoi(optarg); break;
        case 'b': batch = atoi(optarg); break;         case 'W': pipeline = atoi(optarg); break;
        case 'R': probe_rate = atof(optarg); break;    case 'X': probe_pipeline = atoi(optarg); break;
        case 'T': token = optarg; break;               case 'S': server_pid = atoi(optarg); break;
        case 'l': label = optarg; break;               case 'o': subscribe_timeout = atof(optarg); break;
        case 'I': ingest_port = atoi(optarg); break;
        case 'D': deflate_on = 1; break;               case 'N': inflate_every = atoi(optarg); break;
        case 'h': usage(); return 0;
        default: usage(); return 2;
        }
    }
    if (port <= 0 || port > 65535 || nsubs < 0 || in_flight < 1 || per_client < 1 || per_client > 100 || rate < 0 || probe_rate < 0
        || seconds <= 0 || seconds > 600 || warmup < 0 || warmup > 60 || drain < 0 || drain > 60 || subscribe_timeout <= 0
        || subscribe_timeout > 600 || nproducers < 1 || nproducers > 1024 || batch < 1 || batch > 1000 || pipeline < 1
        || pipeline > MAX_WINDOW || probe_pipeline < 1 || probe_pipeline > MAX_WINDOW || strlen(token) > 4096 || inflate_every < 1 || inflate_every > 65535 || optind < argc) {
        usage(); return 2;
    }
    for (char *c = (char *)label; *c; c++) if (*c == '"' || *c == '\\' || (unsigned char)*c < ' ') *c = '\''; /* JSON-safe */
    if (parse_symbols(symbol_list) < 0 || per_client > nsymbols) {
        fprintf(stderr, "fanout-client: --symbols needs names without quotes, at least --per-client of them\n"); return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit nofile; /* as many sockets as the hard limit allows */
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) { nofile.rlim_cur = nofile.rlim_max; setrlimit(RLIMIT_NOFILE, &nofile); }

    epfd = epoll_create1(0);
    scratch = malloc(MAX_FRAME + 16 + READ_CHUNK);
    body_cap = (size_t)batch * 256 + 16; body = malloc(body_cap);
    subs = calloc((size_t)(nsubs ? nsubs : 1), sizeof *subs);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    snprintf(upgrade, sizeof upgrade, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n", port,
             deflate_on ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "");
    long rss_start = server_pid ? server_rss_kb() : -1;
    struct epoll_event events[1024];

    /* 1. Subscribe everyone, at most in_flight handshakes at once, within the timeout. */
    double begin = mono_us(), deadline = begin + subscribe_timeout * 1e6;
    int started = 0;
    while ((started < nsubs || handshaking > 0) && mono_us() < deadline) {
        while (handshaking < in_flight && started < nsubs) start_subscriber(started++, &addr);
        dispatch(events, epoll_wait(epfd, events, 1024, 100));
    }
    for (int i = 0; i < started; i++) if (subs[i].state != SUBSCRIBED) drop_subscriber(i); /* too late */
    connect_errors += nsubs - started;
    double subscribe_seconds = (mono_us() - begin) / 1e6;
    fprintf(stderr, "fanout-client: %ld of %d subscribed in %.2f s (%ld errors)\n", subscribed, nsubs, subscribe_seconds, connect_errors);
    if (subscribed < 0.9 * nsubs) { fprintf(stderr, "fanout-client: fewer than 90 %% subscribed; no ticks sent\n"); return 3; }
    long rss_subscribed = server_pid ? server_rss_kb() : -1;

    /* 2. Produce: warm-up, then the measured window; then drain. */
    /* Producers may post to another port of the same server (the gateway's internal port). */
    struct sockaddr_in ingest = addr;
    if (ingest_port > 0 && ingest_port <= 65535) ingest.sin_port = htons((uint16_t)ingest_port);
    if (open_group(&mainline, "main", rate, batch, pipeline, nproducers, &ingest) < 0) return 1;
    if (probe_rate > 0 && open_group(&probe, "probe", probe_rate, 1, probe_pipeline, 1, &ingest) < 0) return 1;
    double t0 = mono_us(), measure_at = t0 + warmup * 1e6, stop_at = measure_at + seconds * 1e6, window_start = 0, window_end = 0;
    double cpu_start = 0, cpu_end = 0, server_start = -1, server_end = -1;
    long received_start = 0, received_end = 0, reads_start = 0, reads_end = 0, rss_end = -1, bytes_start = 0, bytes_end = 0;
    for (;;) {
        dispatch(events, epoll_wait(epfd, events, 1024, phase == DRAINING ? 10 : 1));
        double now = mono_us();
        if (phase == WARMING && now >= measure_at) {
            phase = MEASURING; measure_from_us = real_us(); window_start = now;
            cpu_start = cpu_seconds(); received_start = received; reads_start = reads; bytes_start = bytes_read;
            skip_backlog(&mainline, now - t0); skip_backlog(&probe, now - t0);
            if (server_pid) server_start = server_cpu();
        }
        if (phase == MEASURING && now >= stop_at) {
            phase = DRAINING; window_end = now;
            cpu_end = cpu_seconds(); received_end = received; reads_end = reads; bytes_end = bytes_read;
            if (server_pid) { server_end = server_cpu(); rss_end = server_rss_kb(); }
        }
        if (phase != DRAINING) { pace(&mainline, now - t0); pace(&probe, now - t0); continue; }
        if (now >= stop_at + drain * 1e6) break;
        if (!outstanding(&mainline) && !outstanding(&probe) && delivered >= expected) break;
    }

    /* 3. One JSON line. */
    double window = (window_end - window_start) / 1e6, frames = (double)(received_end - received_start);
    double client_cpu = cpu_end - cpu_start, server_cpu_s = server_end - server_start;
    int have_server = server_pid && server_start >= 0 && server_end >= 0;
    char cell[7][48];
    printf("{\"label\":\"%s\",\"subscribers\":%d,\"subscribed\":%ld,\"symbols\":%d,\"per_client\":%d,\"producers\":%d,\"batch\":%d,"
           "\"pipeline\":%d,\"seconds\":%.3f,\"rate_offered\":%.0f,\"ticks_sent\":%ld,\"ticks_accepted\":%ld,\"ticks_rejected\":%ld,"
           "\"ticks_per_s\":%.0f,\"expected\":%ld,\"delivered\":%ld,\"delivered_ratio\":%.4f,\"deliveries_per_s\":%.0f,"
           "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,\"post_p50_ms\":%.3f,\"post_p99_ms\":%.3f,"
           "\"post_max_ms\":%.3f,",
           label, nsubs, subscribed, nsymbols, per_client, nproducers, batch, pipeline, window, rate, mainline.sent, mainline.accepted,
           mainline.rejected, mainline.accepted / window, expected, delivered, expected ? (double)delivered / expected : 0,
           delivered / window, hist_ms(&latency, .5), hist_ms(&latency, .9), hist_ms(&latency, .99), hist_ms(&latency, .999),
           latency.max / 1e3, hist_ms(&mainline.round_trip, .5), hist_ms(&mainline.round_trip, .99), mainline.round_trip.max / 1e3);
    if (probe_rate > 0)
        printf("\"probe_rate_offered\":%.0f,\"probe_ticks_sent\":%ld,\"probe_ticks_accepted\":%ld,\"probe_ticks_per_s\":%.0f,"
               "\"probe_post_p50_ms\":%.3f,\"probe_post_p99_ms\":%.3f,\"probe_post_max_ms\":%.3f,",
               probe_rate, probe.sent, probe.accepted, probe.accepted / window, hist_ms(&probe.round_trip, .5),
               hist_ms(&probe.round_trip, .99), probe.round_trip.max / 1e3);
    printf("\"connect_errors\":%ld,\"closed\":%ld,\"post_errors\":%ld,\"frames_in_window\":%.0f,\"frames_per_read\":%.1f,\"client_cpu_pct\":%.1f,"
           "\"server_cpu_pct\":%s,\"client_cpu_us_per_kdelivery\":%s,\"server_cpu_us_per_kdelivery\":%s,"
           "\"server_rss_kb_start\":%s,\"server_rss_kb_subscribed\":%s,\"server_rss_kb_end\":%s,\"subscribe_seconds\":%.3f,"
           "\"deflate\":%s,\"inflate_every\":%d,\"compressed_frames\":%ld,\"plain_frames\":%ld,\"inflated_frames\":%ld,"
           "\"inflate_errors\":%ld,\"bytes_read\":%ld,\"bytes_in_window\":%ld,\"wire_bytes_per_delivery\":%s}\n",
           connect_errors, closed, post_errors, frames, frames / (reads_end > reads_start ? reads_end - reads_start : 1),
           100 * client_cpu / window,
           number(cell[0], have_server, "%.1f", 100 * server_cpu_s / window),
           number(cell[1], frames > 0, "%.2f", client_cpu * 1e9 / (frames ? frames : 1)),
           number(cell[2], have_server && frames > 0, "%.2f", server_cpu_s * 1e9 / (frames ? frames : 1)),
           number(cell[3], rss_start >= 0, "%.0f", rss_start), number(cell[4], rss_subscribed >= 0, "%.0f", rss_subscribed),
           number(cell[5], rss_end >= 0, "%.0f", rss_end), subscribe_seconds,
           deflate_on ? "true" : "false", inflate_every, compressed_frames, plain_frames, inflated_frames, inflate_errors, bytes_read,
           bytes_end - bytes_start, number(cell[6], frames > 0, "%.1f", (double)(bytes_end - bytes_start) / (frames ? frames : 1)));
    return 0;
}
