"""The one HTTP client of the appliance drivers (ZFSSA, NetApp ONTAP, SoftNAS, and later Dorado).

Every REST driver builds an ``ApiClient`` from its section and asks it for
``request(method, path segments, ...)``:

* one ``requests`` session per client, reused by every call of the run;
* a timeout on every call (``[<section>] timeout``, seconds, default 120);
* TLS certificates verified by default, against the system's CAs or the file
  ``[<section>] cacert``; ``verifytls: false`` turns verification off, with a
  warning in the log each run (never silently).  An untrusted certificate is an
  error that says to set ``cacert``;
* retries with backoff on connection errors and on 503 (``[<section>] retries``,
  default 3): a refused connection never reached the appliance, and 503 is the
  appliance saying "busy, again later".  A read timeout is retried only for GET,
  because a POST that timed out may have been done (a snapshot taken twice);
* every path segment percent-quoted (``quote(segment, safe="")``): a name can
  never add a path level or a query;
* credentials never in a log line or an error message: the client logs the
  method and URL only, and scrubs the password out of whatever the appliance
  said before putting it in an error.

Driver-specific parts are hooks: ``error_text`` turns an error response into
words (ZFSSA's ``fault``, ONTAP's ``error``), and ``relogin`` (optional) is
called once on a 401 before the call is repeated (ZFSSA sessions expire).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote, urlsplit

from imagecopy.config import Configuration
from imagecopy.errors import ConfigError, StorageError
from imagecopy.keys import Key

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 120.0
DEFAULT_RETRIES = 3
RETRY_STATUSES = frozenset({503})


def http_keys(section: str) -> tuple[Key, ...]:
    """The keys every REST driver's section takes for reaching its appliance (see HttpSettings)."""
    return (Key(section, "cacert", default="", help="CA file that signed the appliance's certificate"),
            Key(section, "verifytls", "bool", "true", "verify the appliance's TLS certificate"),
            Key(section, "timeout", "number", str(int(DEFAULT_TIMEOUT)), "seconds each call may take", minimum=1),
            Key(section, "retries", "int", str(DEFAULT_RETRIES), "retries on connection errors and 503"),
            Key(section, "retrybackoff", "number", "0.5", "seconds before the first retry, doubled each time"))


@dataclass(frozen=True)
class HttpSettings:
    """Where and how to reach one appliance, read from its configuration section."""

    base_url: str               # e.g. https://zfssa.example.com:215/api/storage/v1 (no trailing '/')
    section: str                # for messages: which section to fix
    verify: bool | str          # True, False, or a CA file
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    backoff: float = 0.5        # seconds before the first retry, doubled each time

    @classmethod
    def from_config(cls, config: Configuration, section: str, base_url: str) -> HttpSettings:
        """``cacert``, ``verifytls``, ``timeout``, ``retries`` and ``retrybackoff`` of ``section``."""
        split = urlsplit(base_url)
        if split.scheme not in ("https", "http") or not split.hostname:
            raise ConfigError(f"{config.path}: [{section}] the appliance URL must look like "
                              f"https://host[:port], not '{base_url}'")
        verify: bool | str = config.getbool("verifytls", section, True)
        cacert = config.get("cacert", section, "").strip()
        if cacert and verify:
            path = Path(cacert).expanduser()
            if not path.is_file():
                raise ConfigError(f"{config.path}: [{section}] cacert '{cacert}': no such file")
            verify = str(path)
        return cls(base_url=base_url.rstrip("/"), section=section, verify=verify,
                   timeout=config.getfloat("timeout", section, DEFAULT_TIMEOUT, minimum=1),
                   retries=config.getint("retries", section, DEFAULT_RETRIES, maximum=10),
                   backoff=config.getfloat("retrybackoff", section, 0.5, maximum=60))


def url_path(*segments: str | int) -> str:
    """``/a/b%2Fc``: each segment quoted whole, so a name is always one path level."""
    return "".join("/" + quote(str(s), safe="") for s in segments)


class ApiClient:
    """Calls to one appliance's REST API; see the module docstring."""

    def __init__(self, settings: HttpSettings, *, auth: Any = None, secrets: Iterable[str] = (),
                 error_text: Callable[[Any], str] | None = None,
                 relogin: Callable[[ApiClient], None] | None = None,
                 headers: Mapping[str, str] | None = None):
        try:
            import requests
        except ImportError as exc:
            raise StorageError(f"the {settings.section} storage driver needs the requests module: {exc}") from exc
        self._requests = requests
        self.settings = settings
        self.session = requests.Session()
        self.session.auth = auth
        self.session.headers.update({"Accept": "application/json", **(headers or {})})
        self.session.verify = settings.verify
        self._secrets = [s for s in secrets if s]
        self._error_text = error_text or _plain_error
        self._relogin = relogin
        self._relogging = False
        self.calls = 0          # requests sent, for the tests and the debug log
        if settings.verify is False:
            import urllib3
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            log.warning("[%s] verifytls is false: the certificate of %s is NOT verified",
                        settings.section, urlsplit(settings.base_url).netloc)

    # -- the one call -------------------------------------------------------
    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, ok: Iterable[int] = (200, 201, 202, 204), absolute: bool = False,
                data: Any = None, allow_redirects: bool = True) -> Any:
        """Send one call (retried as the module docstring says); the response on a status in ``ok``.

        ``path`` is built with :func:`url_path` (or, with ``absolute``, a server-given
        path such as ONTAP's ``_links.next.href``, taken as it is below the host).
        ``data`` is a form body (SoftNAS); ``allow_redirects=False`` returns a redirect
        as it is, for an API that answers "log in first" with a 302.
        :raises StorageError: one line: the call, the status and what the appliance said.
        """
        url = self._url(path, absolute)
        ok = frozenset(ok)
        relogged = False
        attempt = 0
        while True:
            attempt += 1
            response = self._send(method, url, params, json, attempt, data, allow_redirects)
            if response is None:
                continue
            if response.status_code == 401 and self._relogin is not None and not relogged \
                    and not self._relogging:
                log.info("%s %s: HTTP 401, logging in again", method, self._shown(url))
                relogged = True
                self._relogging = True      # the login's own calls must not log in again
                try:
                    self._relogin(self)
                finally:
                    self._relogging = False
                continue
            if response.status_code in RETRY_STATUSES and attempt <= self.settings.retries:
                self._wait(method, url, attempt, f"HTTP {response.status_code}")
                continue
            if response.status_code in ok:
                return response
            raise StorageError(self.scrub(f"{self.settings.section}: {method} {self._shown(url)} failed: "
                                           f"HTTP {response.status_code}: {self._said(response)}"))

    def _send(self, method: str, url: str, params: Mapping[str, Any] | None, json: Any, attempt: int,
              data: Any = None, allow_redirects: bool = True) -> Any:
        """One HTTP exchange; None when it failed in a way worth another attempt."""
        exc_types = self._requests.exceptions
        self.calls += 1
        log.debug("HTTP %s %s", method, self._shown(url))
        try:
            # verify= on every call: a session's own setting loses to $REQUESTS_CA_BUNDLE in requests.
            return self.session.request(method, url, params=params, json=json, data=data,
                                        timeout=self.settings.timeout, verify=self.settings.verify,
                                        allow_redirects=allow_redirects)
        except exc_types.SSLError as exc:
            raise StorageError(self.scrub(
                f"{self.settings.section}: the TLS certificate of {urlsplit(url).netloc} is not trusted "
                f"({_reason(exc)}): set [{self.settings.section}] cacert to the CA file that signed it")) from None
        except exc_types.ConnectionError as exc:
            # Nothing reached the appliance (refused, reset, name unknown): always safe to retry.
            if isinstance(exc, exc_types.ReadTimeout) and method != "GET":
                raise self._gave_up(method, url, exc) from None
            if attempt > self.settings.retries:
                raise self._gave_up(method, url, exc) from None
            self._wait(method, url, attempt, _reason(exc))
            return None
        except exc_types.Timeout as exc:
            if method != "GET" or attempt > self.settings.retries:
                raise self._gave_up(method, url, exc) from None
            self._wait(method, url, attempt, "timed out")
            return None
        except exc_types.RequestException as exc:
            raise self._gave_up(method, url, exc) from None

    # -- helpers --------------------------------------------------------------
    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)

    def close(self) -> None:
        self.session.close()

    def _url(self, path: str, absolute: bool) -> str:
        if absolute:
            split = urlsplit(self.settings.base_url)
            return f"{split.scheme}://{split.netloc}{path if path.startswith('/') else '/' + path}"
        return self.settings.base_url + path

    def _wait(self, method: str, url: str, attempt: int, why: str) -> None:
        delay = self.settings.backoff * (2 ** (attempt - 1))
        log.warning("%s %s: %s; trying again in %.1f s (%d of %d)", method, self._shown(url), why, delay,
                    attempt, self.settings.retries)
        time.sleep(delay)

    def _gave_up(self, method: str, url: str, exc: Exception) -> StorageError:
        return StorageError(self.scrub(f"{self.settings.section}: {method} {self._shown(url)} failed: "
                                        f"{_reason(exc)}"))

    def _said(self, response: Any) -> str:
        try:
            text = self._error_text(response)
        except Exception:       # an error body that is not what the driver expects: show it raw
            text = ""
        return " ".join((text or _plain_error(response)).split())[:300] or "no error text"

    def _shown(self, url: str) -> str:
        """The URL without its scheme and host: messages name the call, the section names the host."""
        split = urlsplit(url)
        return split.path + (f"?{split.query}" if split.query else "")

    def scrub(self, text: str) -> str:
        """``text`` with every secret of this client replaced by ***: for any message about its calls."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _plain_error(response: Any) -> str:
    return (response.text or response.reason or "").strip()


def _reason(exc: Exception) -> str:
    """The innermost cause of a requests/urllib3 error, which is the telling one."""
    inner: BaseException = exc
    while inner.__cause__ is not None or (inner.args and isinstance(inner.args[0], BaseException)):
        inner = inner.__cause__ or inner.args[0]
    text = str(inner) or type(inner).__name__
    return " ".join(text.split())[:200]
