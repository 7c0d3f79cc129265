"""Where a published log is read from: a directory or an http(s) prefix, behind one protocol."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

from ledger.core.errors import NotFoundError

USER_AGENT = "glasspocket-verify/1"


class Source(Protocol):
    """Reads files of a published log by their path under its prefix (``checkpoint``, ``tile/…``)."""

    def read(self, path: str) -> bytes: ...

    def describe(self) -> str: ...


class DirectorySource:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def read(self, path: str) -> bytes:
        target = self.root / path
        try:
            return target.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"{target} is missing", f"缺少文件 {target}") from None

    def describe(self) -> str:
        return str(self.root)


class HttpSource:
    def __init__(self, prefix: str, timeout: float = 30.0) -> None:
        self.prefix = prefix.rstrip("/")
        self.timeout = timeout

    def read(self, path: str) -> bytes:
        url = f"{self.prefix}/{path}"
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise NotFoundError(f"{url} is missing (404)", f"{url} 不存在（404）") from None
            raise NotFoundError(f"{url}: HTTP {exc.code}", f"{url}：HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise NotFoundError(f"{url} cannot be read: {exc}", f"无法读取 {url}：{exc}") from None

    def describe(self) -> str:
        return self.prefix


def open_source(location: str) -> Source:
    """A directory path, or an http(s) URL prefix."""
    if location.startswith(("http://", "https://")):
        return HttpSource(location)
    return DirectorySource(location)
