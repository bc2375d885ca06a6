#!/usr/bin/env python3
"""A real SMTP server for Daybook's email deliveries (aiosmtpd, from PyPI).

It accepts mail on 127.0.0.1:--port, with a login (--user, --password; PLAIN or LOGIN, allowed
without TLS on loopback) when given, and writes one JSON line per message to --log: the
envelope, and the message as Python's standard MIME parser reads it (subject decoded, each
part's type and decoded text).

    smtp-receiver.py --port 2525 --log mail.jsonl [--user daybook --password secret]
"""
import argparse
import json
import threading
from email import policy
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--user")
parser.add_argument("--password")
options = parser.parse_args()


class Handler:
    async def handle_DATA(self, server, session, envelope):
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        parts = []
        for part in message.walk():
            if part.get_content_maintype() == "multipart":
                continue
            parts.append({"type": part.get_content_type(), "charset": part.get_content_charset(),
                          "text": part.get_content()})
        with open(options.log, "a") as log:
            log.write(json.dumps({
                "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                "from": str(message["From"]), "to": str(message["To"]), "subject": str(message["Subject"]),
                "message_id": str(message["Message-ID"]), "content_type": message.get_content_type(),
                "auto_submitted": str(message["Auto-Submitted"]), "parts": parts,
            }) + "\n")
        return "250 OK"


def authenticate(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login.decode() == options.user \
        and data.password.decode() == options.password
    return AuthResult(success=ok, handled=False)


settings = {"authenticator": authenticate, "auth_require_tls": False, "auth_required": True} if options.user else {}
controller = Controller(Handler(), hostname="127.0.0.1", port=options.port, **settings)
controller.start()
print("listening", flush=True)
threading.Event().wait()
