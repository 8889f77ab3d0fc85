/* permessage-deflate (RFC 7692) for the C load clients: whether a 101 agreed to it, and one
 * message inflated (no context takeover: the raw inflater is reset per message). Included by
 * fanout_client.c, ramp_client.c and tls_ramp_client.c; needs <zlib.h>, <string.h>, <strings.h>
 * and <stdint.h> first. */
#ifndef WS_DEFLATE_H
#define WS_DEFLATE_H

/* The 101's head agrees to permessage-deflate (its Sec-WebSocket-Extensions header). */
static inline int agrees_to_deflate(const char *head, const char *end) {
    for (const char *line = head; line && line < end;) {
        const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        size_t n = (size_t)((eol ? eol : end) - line);
        if (n > 25 && strncasecmp(line, "Sec-WebSocket-Extensions:", 25) == 0 && memmem(line + 25, n - 25, "permessage-deflate", 18)) return 1;
        line = eol ? eol + 2 : NULL;
    }
    return 0;
}

/* A permessage-deflate message (RSV1) inflated into out (at most cap - 1 bytes: the prefix is
 * what is read); its length, or -1 when the bytes do not inflate. */
static inline long inflate_message(const char *p, size_t n, char *out, size_t cap) {
    static z_stream z; static int ready;
    static const unsigned char tail[4] = { 0x00, 0x00, 0xff, 0xff };
    if (!ready) { if (inflateInit2(&z, -15) != Z_OK) return -1; ready = 1; } else inflateReset(&z);
    z.next_out = (Bytef *)out; z.avail_out = (uInt)(cap - 1);
    z.next_in = (Bytef *)(uintptr_t)p; z.avail_in = (uInt)n;
    int r = inflate(&z, Z_SYNC_FLUSH);
    if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END) return -1;
    if (!z.avail_in && z.avail_out) {
        z.next_in = (Bytef *)(uintptr_t)tail; z.avail_in = 4;
        r = inflate(&z, Z_SYNC_FLUSH);
        if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END) return -1;
    }
    return (long)(cap - 1 - z.avail_out);
}

#endif
