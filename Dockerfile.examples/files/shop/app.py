"""shop-api: a small JSON API on the standard library, one log line per request on stdout."""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PRODUCTS = [
    {"id": 1, "name": "teapot", "price": 18.5},
    {"id": 2, "name": "mug", "price": 6.0},
]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            self.reply(200, {"status": "ok"})
        elif self.path == "/products":
            self.reply(200, PRODUCTS)
        elif self.path.startswith("/products/"):
            found = [p for p in PRODUCTS if str(p["id"]) == self.path[len("/products/"):]]
            if found:
                self.reply(200, found[0])
            else:
                self.reply(404, {"error": "no such product"})
        else:
            self.reply(404, {"error": "not found"})

    def reply(self, code, body):
        data = json.dumps(body).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        # stdout, not stderr: one line per request, for docker logs
        print(f"shop-api: {self.address_string()} {fmt % args}", flush=True)


def main():
    addr = (os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8080")))
    server = ThreadingHTTPServer(addr, Handler)
    print(f"shop-api: listening on {addr[0]}:{addr[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
