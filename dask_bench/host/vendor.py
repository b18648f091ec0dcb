"""Make asv's published site self-contained (part of `make publish`).

asv's pages load jQuery, Bootstrap, Flot and three small plugins from public CDNs; without
internet the page shows only "Can not determine continental origin of swallow". This step takes
the same versions from the npm registry (each tarball checked against its pinned sha512), copies
the files into html/vendor/, and points the pages at them. The tarballs are cached in .asv/vendor.
Any CDN reference left afterwards is an error naming it, so a new asv release cannot silently
bring one back.

    python -m dask_bench.host.vendor [html]
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import sys
import tarfile
import urllib.request
from pathlib import Path

from .cli import ToolError, command

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
CACHE = REPO_ROOT / ".asv" / "vendor"
REGISTRY = os.environ.get("DASK_BENCH_NPM_REGISTRY", "https://registry.npmjs.org")

# npm package, version, sha512 integrity of its tarball
PACKAGES = {
    "jquery": ("3.3.1", "Ubldcmxp5np52/ENotGxlLe6aGMvmF4R8S6tZjsP6Knsaxd/xp3Zrh50cG93lR6nPXyUFwzN3ZSOQI0wRJNdGg=="),
    "bootstrap": ("3.1.1", "TAzqS8E/ISpVHP29gYhy+1NSV+FJwApDVQhDfgLYsIuUDJiqJzH2DfORN5tiu+Ie2iBLrzEG34t4Rf465cigqg=="),
    "flot": ("0.8.3", "xg2otcTJDvS+ERK+my4wxG/ASq90QURXtoM4LhacCq0jQW2jbyjdttbRNqU2cPykrpMvJ6b2uSp6SAgYAzj9tQ=="),
    "flot-orderbars": ("1.0.0", "Jv51fvzevUjNXEeozpwEKfPjhiZhfiJddv0WHjduUTCmSF+7T5K7C9c9Y1wIVmUhDBv5fLMjgbwKecT0GIKPZA=="),
    "blueimp-md5": ("2.19.0", "DRQrD6gJyy8FbiE4s+bDoXS9hiW3Vbx5uCdwvcCf3zLHL+Iv7LtGHLpr+GZV8rHG8tK766FGYBwRbu8pELTt+w=="),
    # asv asks cdnjs for stupidtable 1.0.1, which npm does not have; 1.1.3 keeps its API (sortable tables).
    "stupid-table-plugin": ("1.1.3", "2Vk7XouQPxUQPRe9w0Fu7ZZ8kHLK7rDoLMsCgtKxRNJ7f4dSOGvW9CkHsq5wD6QsaEnWoyLBYH3xOEsrK3yWBg=="),
}

# What asv writes -> (package, file in its tarball). Flot's npm package has only unminified files.
ASSETS = {
    "https://code.jquery.com/jquery-3.3.1.min.js": ("jquery", "dist/jquery.min.js"),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css": ("bootstrap", "dist/css/bootstrap.min.css"),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js": ("bootstrap", "dist/js/bootstrap.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js": ("flot", "jquery.flot.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js": ("flot", "jquery.flot.time.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js": ("flot", "jquery.flot.selection.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js": ("flot", "jquery.flot.categories.js"),
    "https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js": ("flot-orderbars", "js/jquery.flot.orderBars.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js": ("blueimp-md5", "js/md5.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js": ("stupid-table-plugin", "stupidtable.min.js"),
}
# Files a vendored file refers to by a relative path (bootstrap.min.css -> ../fonts/...).
EXTRA = {"bootstrap": [f"dist/fonts/glyphicons-halflings-regular.{ext}" for ext in ("eot", "svg", "ttf", "woff")]}
EXTERNAL = re.compile(r'(?:src|href)="(https?://[^"]+\.(?:js|css))"')


class VendorError(ToolError):
    pass


def tarball(package: str) -> bytes:
    version, integrity = PACKAGES[package]
    cached = CACHE / f"{package}-{version}.tgz"
    data = cached.read_bytes() if cached.exists() else None
    if data is None or _integrity(data) != integrity:
        url = f"{REGISTRY}/{package}/-/{package}-{version}.tgz"
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                data = response.read()
        except OSError as exc:
            raise VendorError(f"cannot download {url} ({exc}); the report needs it once, then it is cached "
                              f"in {CACHE}") from None
        if _integrity(data) != integrity:
            raise VendorError(f"{url} does not match its pinned sha512; refusing to use it")
        CACHE.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(data)
    return data


def _integrity(data: bytes) -> str:
    return base64.b64encode(hashlib.sha512(data).digest()).decode()


def vendor(html_dir: Path) -> list[str]:
    """Copy the assets into html_dir/vendor and point every page there; return the pages changed."""
    needed: dict[str, set[str]] = {}
    for package, member in ASSETS.values():
        needed.setdefault(package, set()).add(member)
    for package, members in EXTRA.items():
        needed.setdefault(package, set()).update(members)
    for package, members in needed.items():
        with tarfile.open(fileobj=io.BytesIO(tarball(package))) as tar:
            for member in members:
                target = html_dir / "vendor" / package / member
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(f"package/{member}").read())
    changed = []
    for page in sorted(html_dir.glob("*.html")):
        text = original = page.read_text()
        for url, (package, member) in ASSETS.items():
            local = f"vendor/{package}/{member}"
            sri = "sha512-" + _integrity((html_dir / local).read_bytes())

            def relink(tag: re.Match) -> str:
                # asv's tags pin the CDN file's hash (Subresource Integrity): pin the local file's.
                return re.sub(r'integrity="[^"]*"', f'integrity="{sri}"', tag.group(0).replace(url, local))

            text = re.sub(r'<(?:script|link)\b[^>]*"' + re.escape(url) + r'"[^>]*>', relink, text)
        left = EXTERNAL.findall(text)
        if left:
            raise VendorError(f"{page} still loads {', '.join(left)} from the internet: add it to ASSETS in "
                              f"{__file__}")
        if text != original:
            page.write_text(text)
            changed.append(page.name)
    return changed


@command("vendor")
def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    html_dir = Path(argv[0]) if argv else REPO_ROOT / "html"
    if not (html_dir / "index.html").exists():
        raise VendorError(f"no asv report in {html_dir}; run: asv publish")
    changed = vendor(html_dir)
    print(f"vendor: {html_dir} loads its scripts locally ({', '.join(changed) or 'already done'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
