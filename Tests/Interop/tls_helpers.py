"""Certificates for the TLS tests, made with Debian's openssl: one test CA, and server or
client certificates it signs (for 127.0.0.1 and localhost), valid, expired or mismatched."""
import os
import socket
import ssl
import subprocess


def _openssl(*args, cwd):
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


class Certificates:
    def __init__(self, directory):
        self.dir = str(directory)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                 "-days", "2", "-subj", "/CN=Gateway Test CA", cwd=self.dir)
        self.ca = os.path.join(self.dir, "ca.pem")

    def issue(self, name, days=2, client=False):
        """(certificate path, key path) for CN=name, signed by the test CA; days=-1: expired."""
        ext = os.path.join(self.dir, f"{name}.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
            f.write(f"extendedKeyUsage={'clientAuth' if client else 'serverAuth'}\n")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=self.dir)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", str(days), "-extfile", ext, cwd=self.dir)
        return os.path.join(self.dir, f"{name}.pem"), os.path.join(self.dir, f"{name}.key")


def peer_name(port, ca):
    """The CN of the certificate a new TLS connection to 127.0.0.1:port is shown."""
    context = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            subject = dict(item[0] for item in tls.getpeercert()["subject"])
            return subject["commonName"]


def install(source, destination):
    """Replaces a file in one step (as a deploy tool would), so a reader never sees half of it."""
    temporary = destination + ".new"
    with open(source, "rb") as src, open(temporary, "wb") as dst:
        dst.write(src.read())
    os.replace(temporary, destination)


class AsyncConn:
    """python-socketio's asyncio client over TLS, driven from a test's thread. (The threaded
    `socketio.Client` reads and writes one TLS socket from two threads, which OpenSSL does not
    allow: its sends fail now and then; docs/troubleshooting.md, 13.)"""

    def __init__(self, server, namespace, ca, auth=None):
        import asyncio
        import ssl
        import threading

        import aiohttp
        import socketio

        self.namespace = namespace
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

        async def connect():
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=ca)))
            self.client = socketio.AsyncClient(reconnection=False, http_session=self.session)
            await self.client.connect(server.base, namespaces=[namespace], auth=auth, transports=["websocket"], wait_timeout=5)

        self._run(connect())

    def _run(self, coroutine, timeout=10):
        import asyncio
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    @property
    def connected(self):
        return self.namespace in self.client.namespaces

    def call(self, event, data=None, timeout=5):
        return self._run(self.client.call(event, data or {}, namespace=self.namespace, timeout=timeout), timeout + 5)

    def close(self):
        async def close():
            await self.client.disconnect()
            await self.session.close()
        self._run(close())
        self.loop.call_soon_threadsafe(self.loop.stop)
