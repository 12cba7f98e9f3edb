"""A small HTTP client for the web tests: real sockets, cookies kept, no redirects followed."""

from __future__ import annotations

import http.client
import json
import re
from dataclasses import dataclass
from http.cookies import SimpleCookie


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    @property
    def location(self) -> str:
        return (self.headers.get("Location") or "").split("//", 1)[-1].partition("/")[2]


class WebClient:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict | None = None) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        reply = Reply(response.status, response.headers, response.read())
        conn.close()
        for raw in reply.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return reply

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def form(self, path: str, fields: dict[str, str]) -> Reply:
        from urllib.parse import urlencode
        return self.request("POST", path, urlencode(fields),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, path: str, data, csrf: bool = True) -> Reply:
        headers = {"Content-Type": "application/json"}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        body = data if isinstance(data, bytes) else json.dumps(data)
        return self.request("POST", path, body, headers)

    def form_token(self, path: str) -> str:
        page = self.get(path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, f"no csrf_token field on {path}"
        return match.group(1)

    def page_csrf(self, path: str = "/") -> str:
        page = self.get(path)
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
        assert match, f"no csrf meta on {path}: {page.status}"
        self.csrf = match.group(1)
        return self.csrf
