// A small Socket.IO v5 client over Engine.IO v4, WebSocket transport only (no polling: every
// browser the dashboard targets has WebSocket). One WebSocket per namespace: a kick, a
// maintenance refusal or a bad admin token then affects only that namespace.

const OPEN = "0", CLOSE = "1", PING = "2", PONG = "3", MESSAGE = "4";
const SIO = { CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4 };

// CONNECT_ERROR codes worth retrying: they end on their own. Anything else (bad or expired
// token, wrong role, unknown namespace) would only fail again.
const RETRYABLE = new Set(["MAINTENANCE", "CONNECTION_LIMIT"]);

// Splits a Socket.IO packet: type digit, optional "/nsp,", optional ack id, JSON payload.
export function decodePacket(text) {
  let i = 0;
  const type = Number(text[i++]);
  if (type === 5 || type === 6) i = text.indexOf("-", i) + 1; // binary: attachments count
  let namespace = "/";
  if (text[i] === "/") {
    const comma = text.indexOf(",", i);
    namespace = comma < 0 ? text.slice(i) : text.slice(i, comma);
    i = comma < 0 ? text.length : comma + 1;
  }
  const start = i;
  while (i < text.length && text[i] >= "0" && text[i] <= "9") i++;
  const id = i > start ? Number(text.slice(start, i)) : null;
  const data = i < text.length ? JSON.parse(text.slice(i)) : undefined;
  return { type, namespace, id, data };
}

export function encodePacket(type, namespace, data, id) {
  const prefix = namespace === "/" ? "" : namespace + ",";
  return MESSAGE + type + prefix + (id ?? "") + (data === undefined ? "" : JSON.stringify(data));
}

/**
 * One namespace of a gateway. States: idle, connecting, connected, reconnecting (waiting for
 * the next attempt), failed (refused for good; `lastError` says why), closed (by us).
 * Local events: "state", "connect", "disconnect", "connect_error"; server events by name.
 */
export class NamespaceSocket {
  constructor(namespace, { url = defaultURL(), auth = null, ackTimeoutMs = 5000, minDelayMs = 500, maxDelayMs = 10000 } = {}) {
    Object.assign(this, { namespace, url, auth, ackTimeoutMs, minDelayMs, maxDelayMs });
    this.state = "idle";
    this.sid = null;
    this.lastError = null;
    this.nextAttemptAt = null;
    this.attempts = 0;
    this.handlers = new Map();
    this.pending = new Map(); // ack id → {resolve, reject, timer}
    this.nextId = 0;
    this.ws = null;
    this.retryTimer = null;
    this.heartbeat = null;
    this.shutdownDelayMs = 0;
  }

  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(handler);
    return this;
  }

  off(event, handler) {
    this.handlers.get(event)?.delete(handler);
    return this;
  }

  fire(event, ...args) {
    for (const handler of this.handlers.get(event) ?? []) {
      try { handler(...args); } catch (error) { console.error(`handler for ${event} failed`, error); }
    }
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.fire("state", state);
  }

  get connected() { return this.state === "connected"; }

  open() {
    clearTimeout(this.retryTimer);
    this.lastError = this.state === "failed" ? null : this.lastError;
    this.setState(this.attempts === 0 ? "connecting" : "reconnecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onmessage = (message) => { if (this.ws === ws) this.receive(message.data); };
    ws.onclose = () => { if (this.ws === ws) this.lost("connection lost"); };
    return this;
  }

  /** Closes for good (until open() is called again). */
  close() {
    clearTimeout(this.retryTimer);
    this.stopTransport();
    this.failPending("closed");
    this.attempts = 0;
    this.nextAttemptAt = null;
    this.setState("closed");
  }

  /** Sends an event without an ack; false when not connected (the caller decides what to show). */
  emit(event, ...args) {
    if (!this.connected) return false;
    this.ws.send(encodePacket(SIO.EVENT, this.namespace, [event, ...args]));
    return true;
  }

  /** Sends an event with an ack id; resolves with the ack's first argument. */
  request(event, data, timeoutMs = this.ackTimeoutMs) {
    if (!this.connected) return Promise.reject(new Error(`${this.namespace} is not connected`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(encodePacket(SIO.EVENT, this.namespace, data === undefined ? [event] : [event, data], id));
    });
  }

  receive(text) {
    switch (text[0]) {
      case OPEN: return this.handshake(JSON.parse(text.slice(1)));
      case PING:
        this.ws.send(PONG + text.slice(1));
        return this.armHeartbeat();
      case CLOSE: return this.lost("server closed the connection");
      case MESSAGE: return this.packet(decodePacket(text.slice(1)));
    }
  }

  handshake(open) {
    this.pingWindowMs = (open.pingInterval ?? 25000) + (open.pingTimeout ?? 20000);
    this.armHeartbeat();
    const auth = typeof this.auth === "function" ? this.auth() : this.auth;
    this.ws.send(encodePacket(SIO.CONNECT, this.namespace, auth ?? undefined));
  }

  // No ping from the server for a whole interval + timeout: the link is dead even if the
  // browser has not noticed yet.
  armHeartbeat() {
    clearTimeout(this.heartbeat);
    this.heartbeat = setTimeout(() => this.lost("heartbeat timeout"), this.pingWindowMs);
  }

  packet({ type, namespace, id, data }) {
    if (namespace !== this.namespace) return;
    switch (type) {
      case SIO.CONNECT:
        this.sid = data?.sid ?? null;
        this.attempts = 0;
        this.lastError = null;
        this.nextAttemptAt = null;
        this.setState("connected");
        return this.fire("connect", data);
      case SIO.CONNECT_ERROR: return this.refused(data ?? {});
      case SIO.DISCONNECT: return this.lost("disconnected by the server");
      case SIO.EVENT: {
        const [event, ...args] = data;
        if (event === "server.shutdown") this.shutdownDelayMs = args[0]?.reconnectAfterMs ?? 0;
        if (id !== null) this.ws.send(encodePacket(SIO.ACK, this.namespace, [], id));
        return this.fire(event, ...args);
      }
      case SIO.ACK: {
        const waiting = this.pending.get(id);
        if (!waiting) return;
        this.pending.delete(id);
        clearTimeout(waiting.timer);
        return waiting.resolve(data?.[0]);
      }
    }
  }

  refused(error) {
    const code = error.data?.code ?? null;
    this.lastError = { code, message: error.message ?? "refused" };
    this.fire("connect_error", this.lastError);
    this.stopTransport();
    if (RETRYABLE.has(code)) return this.scheduleRetry();
    this.attempts = 0;
    this.nextAttemptAt = null;
    this.setState("failed");
  }

  lost(reason) {
    const wasConnected = this.connected;
    this.stopTransport();
    this.failPending(reason);
    if (wasConnected) this.fire("disconnect", reason);
    if (this.state === "closed" || this.state === "failed") return;
    if (!this.lastError || wasConnected) this.lastError = { code: null, message: reason };
    this.scheduleRetry();
  }

  // Exponential backoff with jitter, so a restarted gateway is not hit by every tab at once;
  // a server.shutdown's reconnectAfterMs is the least wait.
  scheduleRetry() {
    const base = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.attempts);
    const delay = Math.max(this.shutdownDelayMs, base / 2 + Math.random() * base / 2);
    this.shutdownDelayMs = 0;
    this.attempts++;
    this.nextAttemptAt = Date.now() + delay;
    this.setState("reconnecting");
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  stopTransport() {
    clearTimeout(this.heartbeat);
    const ws = this.ws;
    this.ws = null;
    this.sid = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close();
  }

  failPending(reason) {
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(new Error(reason));
    }
    this.pending.clear();
  }
}

/** The gateway that served this page, at the default Socket.IO path. */
export function defaultURL(path = "/socket.io/") {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}?EIO=4&transport=websocket`;
}
