#!/usr/bin/env python3
"""A real HTTP receiver for Daybook's webhook deliveries, as a user would write one.

It checks every request's signature the way the README shows (HMAC-SHA256 over "t.body" with
the shared secret, a 5-minute replay window), answers 401 to a bad one, 500 to the first
--fail good ones, then 200, and writes one JSON line per request to --log. With --hang N, the
first N good requests are logged (accepted) and then never answered: the sender is killed
while it waits, between the receiver's acceptance and the sink's record.

With --certificate and --key it speaks HTTPS with that certificate (a self-signed one, which
Daybook must refuse).

    webhook-receiver.py --port 8088 --secret-file secret --log requests.jsonl [--fail 2] [--hang 1]
"""
import argparse
import hashlib
import hmac
import json
import ssl
import sys
import time
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--secret-file", required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--fail", type=int, default=0)
parser.add_argument("--hang", type=int, default=0)
parser.add_argument("--certificate")
parser.add_argument("--key")
parser.add_argument("--tolerance", type=int, default=300)
options = parser.parse_args()
secret = open(options.secret_file, "rb").read().rstrip(b"\r\n")
accepted = 0
hung = 0
lock = threading.Lock()


def verify(header, body):
    """The README's check: the signature covers the timestamp and the exact body bytes."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False, False
    expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", "")), abs(time.time() - timestamp) <= options.tolerance


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        global accepted, hung
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        verified, fresh = verify(self.headers.get("X-Daybook-Signature", ""), body)
        hang = False
        with lock:
            if not (verified and fresh):
                status = 401
            elif accepted < options.fail:
                accepted += 1
                status = 500
            else:
                status = 200
                if hung < options.hang:
                    hung += 1
                    hang = True
            with open(options.log, "a") as log:
                log.write(json.dumps({
                    "id": self.headers.get("Idempotency-Key"), "delivery": self.headers.get("X-Daybook-Delivery"),
                    "verified": verified, "fresh": fresh, "status": status, "body": body.decode(),
                }) + "\n")
        if hang:
            time.sleep(600)
            return
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"no")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", options.port), Receiver)
server.daemon_threads = True
if options.certificate:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(options.certificate, options.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
print("listening", flush=True)
server.serve_forever()
