"""Audio and spectrograms for the review page.

Audio is served with HTTP Range support (206 Partial Content), which browsers need to seek and to start
playing before the whole file has arrived; Django's FileResponse always sends the whole file.
Spectrogram pictures: auditor.datasets.spectrograms.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.http import http_date

CHUNK = 64 * 1024
AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".opus": "audio/ogg",
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `bytes=` range, clamped to the file; None when it cannot be satisfied.

    Raises ValueError for a header that is not a valid single byte range (RFC 9110: it is then ignored and the
    whole file sent), `bytes=10-5` included: a last position before the first makes the range invalid, not
    unsatisfiable.
    """
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        raise ValueError(f"unsupported Range {header!r}")
    first, last = match.groups()
    if first and last and int(last) < int(first):
        raise ValueError(f"invalid Range {header!r}: the last byte comes before the first")
    if first == "":  # the last N bytes
        length = int(last)
        return (max(size - length, 0), size - 1) if length > 0 and size > 0 else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return None
    return start, end


def _file_part(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        while length > 0:
            data = handle.read(min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data


def audio_response(request: HttpRequest, path: Path) -> HttpResponseBase:
    """The file, or the requested byte range of it (206), with the headers players rely on."""
    stat = path.stat()
    size = stat.st_size
    content_type = AUDIO_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    content_type = content_type or "application/octet-stream"
    header = request.headers.get("Range", "")
    byte_range: tuple[int, int] | None = None
    if header:
        try:
            byte_range = parse_range(header, size)
        except ValueError:
            header = ""  # not a form we serve: RFC 9110 says to send the whole file
        else:
            if byte_range is None:
                refused = HttpResponse(status=416)
                refused["Content-Range"] = f"bytes */{size}"
                return refused
    if request.method == "HEAD":
        response: HttpResponseBase = HttpResponse(content_type=content_type, status=200 if byte_range is None else 206)
        start, end = byte_range or (0, size - 1)
        response["Content-Length"] = str(end - start + 1)
        if byte_range is not None:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
    elif byte_range is None:
        response = FileResponse(path.open("rb"), content_type=content_type)
    else:
        start, end = byte_range
        response = StreamingHttpResponse(
            _file_part(path, start, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Last-Modified"] = http_date(stat.st_mtime)
    response["Cache-Control"] = "private, max-age=3600"
    return response


__all__ = ["audio_response", "parse_range"]
