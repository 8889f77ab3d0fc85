/*
 * A connection-ramp load client in C (issue 13): what gateway-bench's `ramp` does, at the
 * least CPU per connection, so that the server and not the client is what a ramp measures.
 *
 * Each client: TCP connect to 127.0.0.1:PORT, the WebSocket upgrade on /socket.io/, the
 * Engine.IO open packet, CONNECT to /prices, `subscribe` with an ack; it counts when the ack
 * arrives (latency: connect start → ack). At most IN_FLIGHT handshakes at once; connections
 * stay open until all are done, then the process exits. One thread, epoll.
 *
 * --deflate: each client offers permessage-deflate (RFC 7692, as browsers do) and a 101 that
 * does not agree to it is an error; to compare the server's memory per connection with and
 * without it. The handshake's messages are small and arrive plain under the gateway's default
 * threshold; a compressed one (RSV1) is inflated all the same (raw DEFLATE, tail added back).
 *
 * Build: cc -O2 -o ramp-client ramp_client.c -lz
 * Run:   ramp-client [--deflate] PORT CLIENTS IN_FLIGHT [HOLD_SECONDS]   → one JSON line: connected,
 *        errors, rate, p50/p90/p99/max, deflate; with HOLD_SECONDS the connections then stay open
 *        that long (a crowd already connected while a second ramp runs).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>
#include "ws_deflate.h"

enum { CONNECTING, UPGRADING, OPENING, JOINING, SUBSCRIBING, DONE };

typedef struct { int fd, state; double started; size_t have; char buf[4096]; } client_t;

static double now_ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }

static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

/* A masked client text frame (mask key 0: valid, and nothing to compute). */
static void send_text(int fd, const char *text) {
    char frame[256]; size_t len = strlen(text);
    frame[0] = (char)0x81; frame[1] = (char)(0x80 | len); memset(frame + 2, 0, 4); memcpy(frame + 6, text, len);
    if (write(fd, frame, 6 + len) < 0) { /* the read side notices */ }
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

int main(int argc, char **argv) {
    int deflate_on = 0; /* --deflate, wherever it stands */
    for (int a = 1; a < argc; a++)
        if (strcmp(argv[a], "--deflate") == 0) { deflate_on = 1; for (int b = a--; b < argc; b++) argv[b] = argv[b + 1]; argc--; }
    if (argc < 4) { fprintf(stderr, "usage: ramp-client [--deflate] PORT CLIENTS IN_FLIGHT [HOLD_SECONDS]\n"); return 2; }
    int port = atoi(argv[1]), total = atoi(argv[2]), in_flight = atoi(argv[3]), hold = argc > 4 ? atoi(argv[4]) : 0;
    client_t *clients = calloc((size_t)total, sizeof *clients);
    double *latency = calloc((size_t)total, sizeof *latency);
    int started = 0, done = 0, errors = 0, active = 0, epfd = epoll_create1(0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    char request[640];
    snprintf(request, sizeof request, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n", port,
             deflate_on ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "");
    double begin = now_ms();
    struct epoll_event events[512];
    while (done + errors < total) {
        while (active < in_flight && started < total) {
            client_t *c = &clients[started];
            c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            int one = 1; setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->started = now_ms(); c->state = CONNECTING;
            if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) { errors++; close(c->fd); started++; continue; }
            struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)started };
            epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
            started++; active++;
        }
        int n = epoll_wait(epfd, events, 512, 10000);
        if (n <= 0) break; /* nothing for 10 s: give up on the rest */
        for (int i = 0; i < n; i++) {
            client_t *c = &clients[events[i].data.u32];
            if (c->state == DONE) continue;
            if (events[i].events & (EPOLLERR | EPOLLHUP)) goto failed;
            if (c->state == CONNECTING && (events[i].events & EPOLLOUT)) {
                if (write(c->fd, request, strlen(request)) < 0) goto failed;
                c->state = UPGRADING;
                struct epoll_event ev = { .events = EPOLLIN, .data.u32 = events[i].data.u32 };
                epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
            }
            if (!(events[i].events & EPOLLIN)) continue;
            ssize_t r = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
            if (r <= 0) goto failed;
            c->have += (size_t)r;
            if (c->state == UPGRADING) {
                char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
                if (!end) continue;
                if (memcmp(c->buf, "HTTP/1.1 101", 12) != 0) goto failed;
                if (deflate_on && !agrees_to_deflate(c->buf, end + 2)) goto failed;
                size_t head = (size_t)(end + 4 - c->buf);
                memmove(c->buf, c->buf + head, c->have - head); c->have -= head;
                c->state = OPENING;
            }
            char text[1024]; size_t len; int got;
            while ((got = next_frame(c, text, sizeof text, &len)) > 0) {
                if (c->state == OPENING && text[0] == '0') { send_text(c->fd, "40/prices,"); c->state = JOINING; }
                else if (c->state == JOINING && strncmp(text, "40/prices,", 10) == 0) {
                    send_text(c->fd, "42/prices,1[\"subscribe\",{\"symbols\":[\"BTC/USDT\"]}]"); c->state = SUBSCRIBING;
                } else if (c->state == JOINING && strncmp(text, "44/prices,", 10) == 0) goto failed;
                else if (c->state == SUBSCRIBING && strncmp(text, "43/prices,1[", 12) == 0) {
                    if (strstr(text, "\"ok\":false")) goto failed;
                    latency[done++] = now_ms() - c->started; c->state = DONE; active--;
                    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL); /* stays open, no longer read */
                    break;
                }
            }
            if (got < 0) goto failed;
            continue;
        failed:
            errors++; active--; c->state = DONE; epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd);
        }
    }
    double seconds = (now_ms() - begin) / 1e3;
    qsort(latency, (size_t)done, sizeof *latency, cmp);
#define Q(q) (done ? latency[(size_t)((done - 1) * (q))] : 0)
    printf("{\"clients\":%d,\"connected\":%d,\"errors\":%d,\"seconds\":%.3f,\"rate_per_s\":%.0f,"
           "\"latency_ms\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},\"deflate\":%s}\n",
           total, done, errors + (total - done - errors), seconds, done / seconds, Q(0.5), Q(0.9), Q(0.99), done ? latency[done - 1] : 0,
           deflate_on ? "true" : "false");
    fflush(stdout);
    if (hold > 0) sleep((unsigned)hold);
    return 0;
}
