"""Capped HTTP: every connector reads vendor answers through a bounded reader.

A broken or hostile server can answer a page of gigabytes, or a body that never ends. httpx
would read it whole into memory before the connector saw a byte. :class:`CappedClient`
streams every answer instead and stops at ``max_response_bytes`` (decoded bytes, so a
compressed bomb counts at its real size), raising :class:`ResponseTooLargeError` with the
system and the limit. An answer that declares a larger ``Content-Length`` is refused before
its body is read.
"""

from __future__ import annotations

from typing import Any

import httpx

from syncloom.errors import ConfigError, PermanentError

DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
# Headers that describe the wire form of a body; the capped copy holds the decoded bytes.
_WIRE_HEADERS = frozenset({b"content-encoding", b"content-length", b"transfer-encoding"})


class ResponseTooLargeError(PermanentError):
    """A vendor answer was larger than the connection's ``max_response_bytes``.

    Retrying reads the same page again, so it is permanent: lower the flow's page size or
    raise the limit in the connection's options.

    Attributes:
        limit_bytes: the cap the answer passed.
    """

    def __init__(
        self, *, system: str, limit_bytes: int, url: str, declared_bytes: int | None = None
    ) -> None:
        size = f"declared {declared_bytes} bytes" if declared_bytes is not None else "kept going"
        super().__init__(
            f"{system} answered {url} with a body over the {limit_bytes}-byte limit ({size}); "
            "lower the page size or raise max_response_bytes in the connection's options",
            system=system,
        )
        self.limit_bytes = limit_bytes


def response_cap(value: object) -> int:
    """The cap a connection's options ask for, or the default.

    Raises:
        ConfigError: the value is not a positive whole number of bytes.
    """
    if value is None:
        return DEFAULT_MAX_RESPONSE_BYTES
    try:
        limit = int(str(value))
    except ValueError:
        raise ConfigError(f"max_response_bytes must be a number of bytes, not {value!r}") from None
    if limit <= 0:
        raise ConfigError(f"max_response_bytes must be positive, not {limit}")
    return limit


class CappedClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` whose non-streamed answers are read through a byte cap.

    Args:
        system: the vendor's name, for the error.
        max_response_bytes: the most decoded body bytes one answer may carry.
        **kwargs: everything ``httpx.AsyncClient`` takes.
    """

    def __init__(
        self, *, system: str, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.system = system
        self.max_response_bytes = max_response_bytes

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        """Send; unless ``stream`` is asked for, read the answer through the cap.

        Raises:
            ResponseTooLargeError: the answer passed ``max_response_bytes``.
        """
        response = await super().send(
            request, stream=True, auth=auth, follow_redirects=follow_redirects
        )
        if stream:
            return response  # the caller reads it and owns the bound
        try:
            body = await self._read_capped(response)
        finally:
            await response.aclose()
        headers = [(k, v) for k, v in response.headers.raw if k.lower() not in _WIRE_HEADERS]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=body,
            request=request,
            extensions=response.extensions,
        )

    async def _read_capped(self, response: httpx.Response) -> bytes:
        limit = self.max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit and not _is_encoded(response):
            raise self._too_large(response, int(declared))
        body = bytearray()
        async for chunk in response.aiter_bytes():
            if len(body) + len(chunk) > limit:
                raise self._too_large(response, None)
            body += chunk
        return bytes(body)

    def _too_large(self, response: httpx.Response, declared: int | None) -> ResponseTooLargeError:
        url = response.request.url.copy_with(query=None)
        return ResponseTooLargeError(
            system=self.system,
            limit_bytes=self.max_response_bytes,
            url=str(url),
            declared_bytes=declared,
        )


def _is_encoded(response: httpx.Response) -> bool:
    # A compressed body's Content-Length counts wire bytes, not what decoding yields.
    encoding: str = response.headers.get("content-encoding", "identity")
    return encoding.strip().lower() != "identity"
