"""Make the repository of Dask distributed that asv measures (`make distributed-repo`).

Default: a release-history repository built from the source distributions on the package index,
one commit per release in release order on branch main, each tagged with its version and dated
with the release's upload time. Commits are deterministic (fixed author, dates from the index,
trees from the sdists), so every machine that builds the same releases gets the same hashes, and
the results committed under results/ match a fresh clone's repository.

The release list is every release recorded in the pin file (results/distributed-releases.txt), in
its order, so that every clone builds the history the committed results refer to. --grow (what
`make history` does) appends the latest patch of every minor release since 2025.1 (the oldest the
suite supports: its graphs need task-spec) that is not there yet, and records it in the pin file:
the history only grows at its end, so the hashes of stored results never change. Without --grow
the pin file is only read (a line names the releases it lacks). DISTRIBUTED_RELEASES="A B" builds
exactly A and B.

--clone URL (DISTRIBUTED_REPO) instead mirrors a real distributed repository (URL or local path),
for maintainers comparing real commits; a second run fetches what is new.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from .cli import ToolError, command

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_PATH = REPO_ROOT / ".asv" / "distributed"
DEFAULT_PIN_FILE = REPO_ROOT / "results" / "distributed-releases.txt"
DEFAULT_INDEX = "https://pypi.org/simple"
PROJECT = "distributed"
MARKER = "release-history"  # a git config key that tells our repositories from clones
IDENTITY = {"GIT_AUTHOR_NAME": "dask-bench release history", "GIT_AUTHOR_EMAIL": "release-history@localhost",
            "GIT_COMMITTER_NAME": "dask-bench release history",
            "GIT_COMMITTER_EMAIL": "release-history@localhost"}
# sdist artefacts that a source checkout does not have; _version.py must stay untracked so that
# setuptools-scm derives each build's version from the tag.
NOT_SOURCE = ("PKG-INFO", "distributed.egg-info", "distributed/_version.py")


class HistoryError(ToolError):
    pass


@dataclass(frozen=True)
class Release:
    version: str
    url: str
    sha256: str
    upload_time: str  # ISO 8601, UTC
    yanked: bool = False

    @property
    def key(self) -> Version:
        return Version(self.version)


# -- the index -------------------------------------------------------------------------------

def sdist_releases(index_url: str = DEFAULT_INDEX) -> dict[str, Release]:
    """Every final release of distributed that has an sdist, from the index's JSON simple API."""
    request = urllib.request.Request(f"{index_url.rstrip('/')}/{PROJECT}/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            files = json.load(response)["files"]
    except (OSError, ValueError, KeyError) as exc:
        raise HistoryError(f"cannot list {PROJECT} releases from {index_url} ({exc}); check the network, "
                           "or use DISTRIBUTED_REPO=<path or URL> to measure a repository instead") from None
    releases = {}
    prefix = f"{PROJECT}-"
    for f in files:
        name = f["filename"]
        if not (name.startswith(prefix) and name.endswith(".tar.gz")):
            continue
        version = name[len(prefix):-len(".tar.gz")]
        try:
            parsed = Version(version)
        except InvalidVersion:
            continue
        if parsed.is_prerelease or parsed.is_devrelease or "upload-time" not in f:
            continue
        releases[version] = Release(version, f["url"], f["hashes"]["sha256"], f["upload-time"],
                                    bool(f.get("yanked")))
    return releases


SUPPORTED_SINCE = "2025.1"  # the oldest minor release the suite supports (task-spec graphs)


def latest_patches(available: dict[str, Release], since: str) -> list[str]:
    """The newest non-yanked patch of every minor release from `since` on, in version order."""
    newest: dict[tuple[int, int], Version] = {}
    for version, release in available.items():
        parsed = Version(version)
        if not release.yanked and parsed.release[:2] >= Version(since).release[:2]:
            minor = parsed.release[:2]
            newest[minor] = max(newest.get(minor, parsed), parsed)
    return [str(v) for v in sorted(newest.values())]


def choose(available: dict[str, Release], requested: list[str] | None, since: str,
           pinned: list[str], grow: bool = True) -> list[Release]:
    """The releases of the history, in history order (`grow` False and a pin file: the pinned ones only).

    Stored results refer to commit hashes, and a commit's hash covers its parents: the history may
    only grow at its end. So the pinned releases come first, in their recorded order, even if one
    was yanked since; new releases follow in version order, even a backport published after a newer
    release (2026.7.2 after 2026.8.0 goes after 2026.8.0). Yanked releases are never added anew, nor
    a patch older than the newest of its minor.
    """
    if requested:
        missing = [v for v in requested if v not in available]
        if missing:
            newest = sorted(available, key=Version)[-5:]
            raise HistoryError(f"no sdist of {PROJECT} {', '.join(missing)} on the index; "
                               f"set DISTRIBUTED_RELEASES to released versions, e.g. \"{' '.join(newest[-2:])}\"")
        return sorted((available[v] for v in set(requested)), key=lambda r: r.key)
    kept = [available[v] for v in pinned if v in available]
    new = [available[v] for v in latest_patches(available, since) if v not in pinned]
    return kept + new if grow or not pinned else kept


def download(release: Release, cache_dir: Path) -> Path:
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"{PROJECT}-{release.version}.tar.gz"
    if path.exists() and _sha256(path) == release.sha256:
        return path
    tmp = path.with_suffix(f".partial-{os.getpid()}")
    try:
        with urllib.request.urlopen(release.url, timeout=300) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
        if _sha256(tmp) != release.sha256:
            raise HistoryError(f"{release.url}: sha256 differs from the index's; try again")
        os.replace(tmp, path)
    except OSError as exc:
        raise HistoryError(f"cannot download {release.url} ({exc})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- git ---------------------------------------------------------------------------------------

# Whatever the user's git configuration says (signing, hooks, templates, identity, line endings),
# the history's commits must come out the same: no global or system configuration is read.
HERMETIC = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}


def git(*args, cwd: Path | None = None, env: dict | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **HERMETIC, **(env or {})})
    if proc.returncode != 0:
        raise HistoryError(f"git {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip()


def history_tags(path: Path) -> list[str] | None:
    """The tags of main in commit order if `path` is one of our release-history repositories."""
    if not (path / ".git").is_dir() or git("config", "--get", f"dask-bench.{MARKER}", cwd=path,
                                             env=None) != "true":
        return None
    commits = git("rev-list", "--reverse", "--first-parent", "main", cwd=path).split()
    # a commit someone added by hand has no tag: it counts as its hash, so the history is rebuilt
    return [(git("tag", "--points-at", commit, cwd=path).split() or [commit])[0] for commit in commits]


def _is_ours(path: Path) -> bool:
    try:
        return history_tags(path) is not None
    except HistoryError:
        return False


def line_dates(releases: list[Release], available: dict[str, Release]) -> dict[str, str]:
    """Each release's commit date: the upload time of the first release of its minor line, so that a
    late patch (2025.3.1, published in 2026) sits at its line's place on asv's date axis."""
    first: dict[tuple[int, int], str] = {}
    for release in available.values():
        minor = release.key.release[:2]
        first[minor] = min(first.get(minor, release.upload_time), release.upload_time)
    return {r.version: first.get(r.key.release[:2], r.upload_time) for r in releases}


def build_history(path: Path, releases: list[Release], cache_dir: Path, dates: dict[str, str] | None = None,
                  log=print) -> None:
    """Create the repository at `path` (replacing an older release history there)."""
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".history-", dir=parent))
    try:
        git("init", "-q", "--template=", "-b", "main", cwd=work)
        git("config", f"dask-bench.{MARKER}", "true", cwd=work)
        for release in releases:
            sdist = download(release, cache_dir)
            _replace_tree(work, sdist, release.version)
            git("add", "-A", cwd=work)
            date = (dates or {}).get(release.version, release.upload_time)
            git("commit", "-q", "--no-verify", "-m",
                f"distributed {release.version}\n\nSource distribution {sdist.name} from the package index, "
                f"uploaded {release.upload_time}, sha256 {release.sha256}.", cwd=work,
                env={**IDENTITY, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
            git("tag", release.version, cwd=work)
            log(f"  {release.version}  {git('rev-parse', 'HEAD', cwd=work)[:12]}  {date[:10]}")
        git("checkout", "-q", "--detach", cwd=work)  # asv clones from it; keep no branch checked out
        if path.exists():
            shutil.rmtree(path)
        os.replace(work, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _replace_tree(work: Path, sdist: Path, version: str) -> None:
    for child in work.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    top = f"{PROJECT}-{version}/"
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            if not member.name.startswith(top) or not (member.isfile() or member.isdir() or member.issym()):
                continue
            relative = member.name[len(top):]
            if not relative or relative in NOT_SOURCE or relative.startswith(NOT_SOURCE[1] + "/"):
                continue
            member.name = relative
            tar.extract(member, work, filter="data")
    setup_cfg = work / "setup.cfg"
    if setup_cfg.exists() and setup_cfg.read_text().split() == ["[egg_info]", "tag_build", "=", "tag_date", "=", "0"]:
        setup_cfg.unlink()  # written by sdist, not in the source repository


def mirror(path: Path, url: str, log=print) -> None:
    if path.exists():
        origin = git("config", "--get", "remote.origin.url", cwd=path) if (path / "config").exists() else ""
        if _is_ours(path) or origin != url:
            raise HistoryError(f"{path} holds {'a release history' if _is_ours(path) else origin or 'something else'}, "
                               f"not a mirror of {url}; remove it (rm -rf {path}) and run again")
        log(f"fetching {url} into {path}")
        git("fetch", "--prune", "--tags", "origin", cwd=path)
    else:
        log(f"cloning {url} into {path}")
        git("clone", "--mirror", url, str(path))
    try:
        git("rev-parse", "--verify", "main", cwd=path)
    except HistoryError:
        raise HistoryError(f"{url} has no branch main; asv.conf.json measures branch main") from None
    try:
        git("cat-file", "-e", "main:distributed/scheduler.py", cwd=path)
    except HistoryError:
        shutil.rmtree(path, ignore_errors=True)
        raise HistoryError(f"{url} is not a repository of Dask distributed (its main has no distributed/scheduler.py); "
                           "set DISTRIBUTED_REPO to a clone of https://github.com/dask/distributed, or unset it") from None


# -- command line ------------------------------------------------------------------------------

@command("release_history")
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.release_history", description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH, help="where the repository goes (asv.conf.json's repo)")
    parser.add_argument("--releases", default=os.environ.get("DISTRIBUTED_RELEASES", ""),
                        help='exact versions, e.g. "2026.7.1 2026.8.0" (default: $DISTRIBUTED_RELEASES)')
    parser.add_argument("--since", default=SUPPORTED_SINCE,
                        help=f"the oldest minor release (default {SUPPORTED_SINCE}, the oldest the suite supports)")
    parser.add_argument("--clone", default=os.environ.get("DISTRIBUTED_REPO", ""),
                        help="mirror this repository (URL or path) instead (default: $DISTRIBUTED_REPO)")
    parser.add_argument("--index-url", default=os.environ.get("DISTRIBUTED_INDEX_URL", DEFAULT_INDEX))
    parser.add_argument("--pin-file", type=Path, default=DEFAULT_PIN_FILE,
                        help="releases that stored results refer to; kept in the default history")
    parser.add_argument("--grow", action="store_true",
                        help="add the releases published since the pin file's newest, and record them in it")
    parser.add_argument("--cache-dir", type=Path, default=REPO_ROOT / ".asv" / "sdists")
    args = parser.parse_args(argv)
    try:
        too_old = Version(args.since).release[:2] < Version(SUPPORTED_SINCE).release[:2]
    except InvalidVersion:
        parser.error(f"--since {args.since}: give a release like {SUPPORTED_SINCE}")
    if too_old:
        parser.error(f"--since {args.since}: the suite supports releases from {SUPPORTED_SINCE} on "
                     "(older graphs have no task-spec)")
    path = args.path.absolute()
    if args.clone:
        mirror(path, args.clone)
        return 0
    requested = args.releases.split() or None
    pinned = args.pin_file.read_text().split() if args.pin_file.exists() else []
    try:
        available = sdist_releases(args.index_url)
    except HistoryError as exc:
        # Offline once set up: a history that already holds what is asked for is used as it is.
        have = history_tags(path) if _is_ours(path) else None
        if have and all(v in have for v in (requested or pinned)):
            print(f"{path}: {exc}; using the history already here ({' '.join(have)})", file=sys.stderr)
            return 0
        raise
    releases = choose(available, requested, args.since, pinned, args.grow)
    versions = [r.version for r in releases]
    newer = [v for v in latest_patches(available, args.since) if v not in versions and not requested]
    if newer:
        print(f"{PROJECT} {' '.join(newer)}: released since the history's newest; make history adds "
              f"{'them' if len(newer) > 1 else 'it'} (each measured against its predecessor)")
    if path.exists() and not _is_ours(path):
        raise HistoryError(f"{path} exists and is not a release history made by this command (a mirror of "
                           f"DISTRIBUTED_REPO?); remove it (rm -rf {path}) or set DISTRIBUTED_REPO")
    if path.exists() and history_tags(path) == versions:
        print(f"{path}: up to date ({' '.join(versions)})")
    else:
        print(f"{path}: release history of {PROJECT} {' '.join(versions)}")
        build_history(path, releases, args.cache_dir, line_dates(releases, available))
    if not requested and versions != pinned:  # --grow, or no pin file yet
        args.pin_file.parent.mkdir(parents=True, exist_ok=True)
        args.pin_file.write_text("\n".join(versions) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
