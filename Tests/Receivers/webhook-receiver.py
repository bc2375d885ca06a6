#!/usr/bin/env python3
"""A real HTTP receiver for Daybook's webhook deliveries, as a user would write one.

It checks every request's signature the way the README shows (HMAC-SHA256 over "t.body" with
the shared secret, a 5-minute replay window), answers 401 to a bad one, 500 to the first
--fail good ones, then 200, and writes one JSON line per request to --log.

    webhook-receiver.py --port 8088 --secret-file secret --log requests.jsonl [--fail 2]
"""
import argparse
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--secret-file", required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--fail", type=int, default=0)
parser.add_argument("--tolerance", type=int, default=300)
options = parser.parse_args()
secret = open(options.secret_file, "rb").read().rstrip(b"\r\n")
accepted = 0


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
        global accepted
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        verified, fresh = verify(self.headers.get("X-Daybook-Signature", ""), body)
        if not (verified and fresh):
            status = 401
        elif accepted < options.fail:
            accepted += 1
            status = 500
        else:
            status = 200
        with open(options.log, "a") as log:
            log.write(json.dumps({
                "id": self.headers.get("Idempotency-Key"), "delivery": self.headers.get("X-Daybook-Delivery"),
                "verified": verified, "fresh": fresh, "status": status, "body": body.decode(),
            }) + "\n")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"no")

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", options.port), Receiver)
print("listening", flush=True)
server.serve_forever()
