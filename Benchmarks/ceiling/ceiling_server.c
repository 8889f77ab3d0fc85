/*
 * The ceiling server for `make bench` (issue 13): the least work a server can do for the
 * gateway's benchmark scenarios on this machine, as a baseline measured in the same run.
 *
 * One thread, epoll, no framework. It speaks just enough of the gateway's wire protocol for
 * gateway-bench: the WebSocket upgrade on /socket.io/ (Engine.IO open packet), CONNECT to
 * /prices, `subscribe` with an ack, and POST /api/v1/market (a JSON tick or array of ticks).
 * Each tick becomes one `price.update` frame, built once and copied into the send buffer of
 * every subscriber of its symbol; buffers are written once per loop pass. No heartbeats, no
 * auth, no validation beyond what parsing needs: it is a yardstick, not a server.
 *
 * Build: cc -O2 -o ceiling-server ceiling_server.c -lcrypto
 * Run:   ceiling-server PORT
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_SYMBOLS 4096
#define MAX_OUT (4 << 20) /* a subscriber further behind than this is dropped */

typedef struct { char *data; size_t len, cap; } buf_t;

typedef struct conn {
    int fd, websocket, dirty, closing;
    buf_t in, out;
    int *symbols; size_t nsymbols, capsymbols; /* symbol ids this socket is subscribed to */
} conn_t;

typedef struct { char name[32]; int *fds; size_t n, cap; } symbol_t;

static conn_t **conns; static size_t nconns_cap;
static symbol_t symbols[MAX_SYMBOLS]; static int nsymbols;
static int *dirty; static size_t ndirty, capdirty;
static int epfd;

static void buf_append(buf_t *b, const char *data, size_t len) {
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + len) cap *= 2;
        b->data = realloc(b->data, cap); b->cap = cap;
    }
    memcpy(b->data + b->len, data, len); b->len += len;
}

static void buf_consume(buf_t *b, size_t n) {
    memmove(b->data, b->data + n, b->len - n); b->len -= n;
}

static int symbol_id(const char *name, size_t len) {
    if (len >= sizeof(symbols[0].name)) return -1;
    for (int i = 0; i < nsymbols; i++)
        if (strlen(symbols[i].name) == len && memcmp(symbols[i].name, name, len) == 0) return i;
    if (nsymbols == MAX_SYMBOLS) return -1;
    memcpy(symbols[nsymbols].name, name, len); symbols[nsymbols].name[len] = 0;
    return nsymbols++;
}

static void mark_dirty(conn_t *c) {
    if (c->dirty) return;
    c->dirty = 1;
    if (ndirty == capdirty) { capdirty = capdirty ? capdirty * 2 : 1024; dirty = realloc(dirty, capdirty * sizeof(int)); }
    dirty[ndirty++] = c->fd;
}

static void send_bytes(conn_t *c, const char *data, size_t len) {
    if (c->closing) return;
    if (c->out.len + len > MAX_OUT) { c->closing = 1; return; }
    buf_append(&c->out, data, len);
    mark_dirty(c);
}

/* A server text frame (unmasked). */
static size_t frame_header(char *h, size_t len) {
    h[0] = (char)0x81;
    if (len < 126) { h[1] = (char)len; return 2; }
    if (len < 65536) { h[1] = 126; h[2] = (char)(len >> 8); h[3] = (char)len; return 4; }
    h[1] = 127; for (int i = 0; i < 8; i++) h[2 + i] = (char)(len >> (56 - 8 * i)); return 10;
}

static void send_text(conn_t *c, const char *text, size_t len) {
    char h[10]; size_t n = frame_header(h, len);
    send_bytes(c, h, n); send_bytes(c, text, len);
}

static void close_conn(conn_t *c) {
    for (size_t i = 0; i < c->nsymbols; i++) {
        symbol_t *s = &symbols[c->symbols[i]];
        for (size_t j = 0; j < s->n; j++) if (s->fds[j] == c->fd) { s->fds[j] = s->fds[--s->n]; break; }
    }
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    conns[c->fd] = NULL;
    free(c->in.data); free(c->out.data); free(c->symbols); free(c);
}

static void subscribe(conn_t *c, int id) {
    for (size_t i = 0; i < c->nsymbols; i++) if (c->symbols[i] == id) return;
    if (c->nsymbols == c->capsymbols) { c->capsymbols = c->capsymbols ? c->capsymbols * 2 : 4; c->symbols = realloc(c->symbols, c->capsymbols * sizeof(int)); }
    c->symbols[c->nsymbols++] = id;
    symbol_t *s = &symbols[id];
    if (s->n == s->cap) { s->cap = s->cap ? s->cap * 2 : 64; s->fds = realloc(s->fds, s->cap * sizeof(int)); }
    s->fds[s->n++] = c->fd;
}

/* One Engine.IO message from a WebSocket client: its Socket.IO packet, after the `4`. */
static void on_message(conn_t *c, char *m, size_t len) {
    char reply[256];
    if (len >= 9 && memcmp(m, "0/prices,", 9) == 0) {
        int n = snprintf(reply, sizeof reply, "40/prices,{\"sid\":\"c%d\"}", c->fd);
        send_text(c, reply, (size_t)n);
    } else if (len >= 9 && memcmp(m, "2/prices,", 9) == 0) {
        size_t i = 9; long ack = -1;
        if (i < len && m[i] >= '0' && m[i] <= '9') { ack = 0; while (i < len && m[i] >= '0' && m[i] <= '9') ack = ack * 10 + (m[i++] - '0'); }
        char *list = memmem(m + i, len - i, "\"symbols\"", 9);
        if (list && memmem(m + i, len - i, "\"subscribe\"", 11)) {
            char *p = memchr(list, '[', (size_t)(m + len - list)), *end = p ? memchr(p, ']', (size_t)(m + len - p)) : NULL;
            while (p && end && p < end) {
                char *q1 = memchr(p, '"', (size_t)(end - p)); if (!q1) break;
                char *q2 = memchr(q1 + 1, '"', (size_t)(end - q1 - 1)); if (!q2) break;
                int id = symbol_id(q1 + 1, (size_t)(q2 - q1 - 1)); if (id >= 0) subscribe(c, id);
                p = q2 + 1;
            }
        }
        if (ack >= 0) { int n = snprintf(reply, sizeof reply, "43/prices,%ld[{\"ok\":true}]", ack); send_text(c, reply, (size_t)n); }
    }
}

/* WebSocket frames from a client (masked); returns -1 to close. */
static int on_websocket_bytes(conn_t *c) {
    for (;;) {
        unsigned char *d = (unsigned char *)c->in.data; size_t have = c->in.len;
        if (have < 2) return 0;
        int opcode = d[0] & 0x0f; size_t len = d[1] & 0x7f, off = 2;
        if (len == 126) { if (have < 4) return 0; len = ((size_t)d[2] << 8) | d[3]; off = 4; }
        else if (len == 127) { if (have < 10) return 0; len = 0; for (int i = 0; i < 8; i++) len = (len << 8) | d[2 + i]; off = 10; }
        if (len > (1 << 20)) return -1;
        if (have < off + 4 + len) return 0;
        unsigned char *mask = d + off, *payload = d + off + 4;
        for (size_t i = 0; i < len; i++) payload[i] ^= mask[i & 3];
        if (opcode == 8) return -1;
        if (opcode == 1 && len > 0 && payload[0] == '4') on_message(c, (char *)payload + 1, len - 1);
        buf_consume(&c->in, off + 4 + len);
    }
}

/* A tick object's symbol, or -1. */
static int tick_symbol(const char *o, size_t len) {
    char *k = memmem(o, len, "\"symbol\"", 8); if (!k) return -1;
    char *q1 = memchr(k + 8, '"', (size_t)(o + len - k - 8)); if (!q1) return -1;
    char *q2 = memchr(q1 + 1, '"', (size_t)(o + len - q1 - 1)); if (!q2) return -1;
    return symbol_id(q1 + 1, (size_t)(q2 - q1 - 1));
}

/* POST /api/v1/market: each top-level object is a tick, framed once for all its subscribers. */
static int on_ingest(const char *body, size_t len) {
    int accepted = 0, depth = 0; const char *start = NULL;
    static buf_t frame;
    for (size_t i = 0; i < len; i++) {
        if (body[i] == '{') { if (depth++ == 0) start = body + i; }
        else if (body[i] == '}' && --depth == 0 && start) {
            size_t olen = (size_t)(body + i + 1 - start);
            int id = tick_symbol(start, olen);
            if (id < 0) continue;
            accepted++;
            static const char prefix[] = "42/prices,[\"price.update\",";
            size_t payload = sizeof prefix - 1 + olen + 1;
            char h[10]; size_t hn = frame_header(h, payload);
            frame.len = 0;
            buf_append(&frame, h, hn); buf_append(&frame, prefix, sizeof prefix - 1); buf_append(&frame, start, olen); buf_append(&frame, "]", 1);
            symbol_t *s = &symbols[id];
            for (size_t j = 0; j < s->n; j++) send_bytes(conns[s->fds[j]], frame.data, frame.len);
        }
    }
    return accepted;
}

static void websocket_accept(const char *key, size_t keylen, char out[64]) {
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char joined[128]; unsigned char digest[SHA_DIGEST_LENGTH];
    memcpy(joined, key, keylen); memcpy(joined + keylen, guid, sizeof guid - 1);
    SHA1((unsigned char *)joined, keylen + sizeof guid - 1, digest);
    EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
}

/* HTTP requests on a connection that has not upgraded; returns -1 to close. */
static int on_http_bytes(conn_t *c) {
    for (;;) {
        char *end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
        if (!end) return c->in.len > 65536 ? -1 : 0;
        size_t head = (size_t)(end + 4 - c->in.data);
        char *cl = memmem(c->in.data, head, "Content-Length:", 15);
        if (!cl) cl = memmem(c->in.data, head, "content-length:", 15);
        size_t body = cl ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
        if (body > (16u << 20) || head < 20) return -1;
        if (c->in.len < head + body) return 0;
        if (memcmp(c->in.data, "GET /socket.io/", 15) == 0) {
            char *k = memmem(c->in.data, head, "Sec-WebSocket-Key:", 18);
            if (!k) k = memmem(c->in.data, head, "sec-websocket-key:", 18);
            if (!k) return -1;
            k += 18; while (*k == ' ') k++;
            char *ke = memmem(k, (size_t)(end - k + 2), "\r\n", 2);
            if (!ke || ke - k > 60) return -1; /* a real key is 24 characters */
            char accept[64];
            websocket_accept(k, (size_t)(ke - k), accept);
            char response[512], open[256];
            int n = snprintf(response, sizeof response, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
            send_bytes(c, response, (size_t)n);
            int m = snprintf(open, sizeof open, "0{\"sid\":\"c%d\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}", c->fd);
            send_text(c, open, (size_t)m);
            c->websocket = 1;
            buf_consume(&c->in, head);
            return on_websocket_bytes(c);
        }
        char response[256];
        int accepted = memcmp(c->in.data, "POST /api/v1/market", 19) == 0 ? on_ingest(c->in.data + head, body) : -1;
        int n = accepted >= 0
            ? snprintf(response, sizeof response, "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"accepted\":%d}", 14 + (accepted > 9) + (accepted > 99) + (accepted > 999) + (accepted > 9999), accepted)
            : snprintf(response, sizeof response, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        send_bytes(c, response, (size_t)n);
        buf_consume(&c->in, head + body);
    }
}

static void flush_dirty(void) {
    for (size_t i = 0; i < ndirty; i++) {
        conn_t *c = conns[dirty[i]];
        if (!c) continue;
        c->dirty = 0;
        if (c->closing) { close_conn(c); continue; }
        while (c->out.len) {
            ssize_t w = write(c->fd, c->out.data, c->out.len);
            if (w > 0) { buf_consume(&c->out, (size_t)w); continue; }
            if (w < 0 && errno == EAGAIN) {
                struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.fd = c->fd };
                epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
                break;
            }
            close_conn(c); break;
        }
    }
    ndirty = 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: ceiling-server PORT\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    nconns_cap = 1 << 17; conns = calloc(nconns_cap, sizeof *conns);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 4096)) { perror("listen"); return 1; }
    epfd = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = listener }, events[512];
    epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev);
    printf("ceiling server listening on %s\n", argv[1]); fflush(stdout);
    for (;;) {
        int n = epoll_wait(epfd, events, 512, -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int client;
                while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if ((size_t)client >= nconns_cap) { close(client); continue; }
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conns[client] = calloc(1, sizeof(conn_t)); conns[client]->fd = client;
                    struct epoll_event cev = { .events = EPOLLIN, .data.fd = client };
                    epoll_ctl(epfd, EPOLL_CTL_ADD, client, &cev);
                }
                continue;
            }
            conn_t *c = conns[fd];
            if (!c) continue;
            if (events[i].events & EPOLLOUT) {
                struct epoll_event cev = { .events = EPOLLIN, .data.fd = fd };
                epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &cev);
                mark_dirty(c);
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                char chunk[65536];
                ssize_t r = read(fd, chunk, sizeof chunk);
                if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; close_conn(c); continue; }
                buf_append(&c->in, chunk, (size_t)r);
                if ((c->websocket ? on_websocket_bytes(c) : on_http_bytes(c)) < 0) { close_conn(c); continue; }
            }
        }
        flush_dirty();
    }
}
