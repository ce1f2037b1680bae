"""Reader processes: files are read, parsed and chunked in worker processes, so a reader that
hangs, crashes (a native parser's segfault), runs out of memory or recurses too deeply costs that
one file, reported with a one-line reason, never the ingest. Parsing also runs beside the
embedder, on the other cores.

Each worker takes one file at a time over its own pipe, so the pool knows which file a dead or
late worker was reading; such a worker is killed and replaced. Workers start from a clean
process (forkserver on Linux, spawn elsewhere): forking a process whose torch or Chroma threads
are running is unsafe. A worker runs under an address-space limit and ignores Ctrl+C (the ingest
process decides), and it exits when the ingest process goes away.

Readers start the same whether or not a terminal app owns the process (`start_readers`), and
`send_reader_output` keeps what a parser prints off a screen that such an app draws.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TextIO

from .chunking import Chunker
from .limits import MB, ReadLimits
from .reading import Parser, ReadJob, Work, read_document
from .secret_rules import SecretRules

try:
    import resource
except ImportError:  # Windows: no rlimits; time limits still apply
    resource = None  # type: ignore[assignment]

_context = None
_start_lock = threading.Lock()
#: Where reader processes send what they print (None: wherever this process's own output goes).
_reader_output: str | None = None
_READY = "ready"
#: Seconds a new reader may take to start (imports, jieba's dictionary) before the ingest stops.
START_TIMEOUT = 120.0
#: The longest socket path the OS takes, its final NUL included (108 bytes on Linux, 104 on macOS).
_SOCKET_PATH_MAX = 108 if sys.platform == "linux" else 104
#: What multiprocessing puts under the temporary folder for a socket: /pymp-XXXXXXXX/listener-XXXXXXXX.
_SOCKET_SUFFIX = len("/pymp-12345678/listener-12345678")


def keep_socket_path_short() -> None:
    """Make the forkserver's socket live under /tmp when TMPDIR is too long to hold one.

    multiprocessing makes one folder per process under TMPDIR for its sockets; with a long TMPDIR
    the socket's path exceeds what the OS allows and every ingest stopped with "AF_UNIX path too
    long". Python 3.14 falls back to /tmp by itself (gh-132124); this does the same before. Call it
    before the forkserver starts; the folder, once made, serves the whole process.
    """
    if len(os.fsencode(tempfile.gettempdir())) + _SOCKET_SUFFIX < _SOCKET_PATH_MAX:
        return
    from multiprocessing import util

    saved = tempfile.tempdir
    for short in ("/tmp", "/var/tmp"):
        try:
            tempfile.tempdir = short
            util.get_temp_dir()
            return
        except OSError:
            continue  # not writable here: the next one, or TMPDIR's error as before
        finally:
            tempfile.tempdir = saved


def _mp_context():
    global _context
    if _context is None:
        if sys.platform == "linux" and "forkserver" in multiprocessing.get_all_start_methods():
            keep_socket_path_short()
            _context = multiprocessing.get_context("forkserver")
            # The server imports the readers once; each worker forks from it ready to go.
            _context.set_forkserver_preload(["ingest.reader_preload"])
        else:
            _context = multiprocessing.get_context("spawn")
    return _context


def start_readers() -> None:
    """Start what reader processes come from, now: multiprocessing's resource tracker and, on
    Linux, the server the readers fork from (it imports the parsers and loads jieba once).

    Safe from any thread and any number of times (a running one is kept). `Session.ingest` calls
    it first, for the CLI and the chat app alike, so that the server's start (a second or two)
    overlaps loading Chroma and the base; every reader start calls it too. It works
    the same when a terminal app has put a stand-in without a file descriptor in `sys.stderr`
    (Textual's returns -1), which multiprocessing would hand to the tracker it starts ("bad
    value(s) in fds_to_keep"), and whatever the working directory holds: the server starts as
    `python -c`, which would import from there first, so a folder named `ingest` in it (a user's
    data, another checkout) would replace the readers (`_worker() takes 4 positional arguments`)."""
    context = _mp_context()
    with _start_lock, _stderr_with_descriptor(), _no_imports_from_working_directory():
        resource_tracker.ensure_running()
        if context.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()


def send_reader_output(path: Path | None) -> None:
    """Append what reader processes print (a parser's warnings, a native library's messages) to
    `path` instead of this process's stdout and stderr: a terminal app that draws on them calls
    this before an ingest. None: back to the process's own output. Applies to readers started
    after the call."""
    global _reader_output
    _reader_output = str(path) if path is not None else None


def _has_descriptor(stream: TextIO | None) -> bool:
    try:
        os.fstat(stream.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return False
    return True


@contextmanager
def _stderr_with_descriptor() -> Iterator[None]:
    """While multiprocessing starts a helper process, a `sys.stderr` with a real descriptor (the
    null device where a stand-in has none). The helpers inherit descriptors 0-2 either way."""
    if _has_descriptor(sys.stderr):
        yield
        return
    stand_in = sys.stderr
    with open(os.devnull, "w") as null:
        sys.stderr = null
        try:
            yield
        finally:
            sys.stderr = stand_in


@contextmanager
def _no_imports_from_working_directory() -> Iterator[None]:
    """PYTHONSAFEPATH (Python 3.11+) for the helper processes started meanwhile: their `sys.path`
    does not begin with the working directory."""
    saved = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = saved


def _redirect_output(path: str | None) -> None:
    """In a reader: send descriptors 1 and 2 to `path`, so that nothing it prints reaches a screen."""
    if path is None:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError:
        fd = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, ValueError, OSError):
            pass
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def default_workers() -> int:
    """Two readers on a small machine (one slow file never starves the rest), more on bigger ones."""
    return max(2, min(4, (os.cpu_count() or 2) - 1))


def _limit_resources(limits: ReadLimits) -> None:
    if resource is None:
        return
    try:
        # A crashing parser must not leave core files in the user's working folder.
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError, AttributeError):
        pass
    if not hasattr(resource, "RLIMIT_AS"):
        return
    wanted = int(limits.worker_memory_mb * MB)
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    except (ValueError, OSError):
        pass  # not enforceable here (some macOS versions): the time limit still holds


def _limit_cpu(limits: ReadLimits) -> None:
    # A backstop for a worker whose ingest died while it spun in a parser: the kernel stops it.
    if resource is None or not hasattr(resource, "RLIMIT_CPU"):
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    seconds = int(used.ru_utime + used.ru_stime + 2 * limits.file_timeout + 10)
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY or seconds < hard:
            resource.setrlimit(resource.RLIMIT_CPU, (seconds, hard))
    except (ValueError, OSError):
        pass


def _worker(
    conn: Connection,
    chunker: Chunker,
    limits: ReadLimits,
    parser: Parser,
    secrets: SecretRules,
    output: str | None = None,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _redirect_output(output)
    _limit_resources(limits)
    conn.send(_READY)  # start-up (imports under spawn) does not count against a file's time
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the ingest process is gone
        if job is None:
            return
        _limit_cpu(limits)
        try:
            work = read_document(job, chunker, limits, parser, secrets)
        except MemoryError:
            work = Work(job.key, "failed", error=limits.too_hungry())
        except RecursionError:
            work = Work(job.key, "failed", error="nested too deeply to read (RecursionError)")
        except Exception as exc:  # a parser bug costs this file only
            reason = str(exc).splitlines()[0][:200] if str(exc) else ""
            work = Work(job.key, "failed", error=f"could not be read ({type(exc).__name__}: {reason})")
        try:
            conn.send(work)
        except MemoryError:
            conn.send(Work(job.key, "failed", error=limits.too_hungry()))
        except (EOFError, OSError):
            return


@dataclass
class _Slot:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    job: ReadJob | None = None
    deadline: float = 0.0


class ReaderPool:
    """Reader processes for one ingest. Use as a context manager; `read` yields one Work per job,
    in the order they finish."""

    def __init__(
        self,
        chunker: Chunker,
        limits: ReadLimits,
        parser: Parser,
        workers: int | None = None,
        secrets: SecretRules | None = None,
    ) -> None:
        self.chunker, self.limits, self.parser = chunker, limits, parser
        self.secrets = secrets or SecretRules()
        self.workers = workers or default_workers()
        self.slots: list[_Slot] = []
        self.closed = False

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> _Slot:
        start_readers()
        ctx = _mp_context()
        ours, theirs = ctx.Pipe()
        process = ctx.Process(
            target=_worker,
            args=(theirs, self.chunker, self.limits, self.parser, self.secrets, _reader_output),
            name="ingest-reader",
            daemon=True,
        )
        process.start()
        theirs.close()
        try:
            ready = ours.poll(START_TIMEOUT) and ours.recv() == _READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            process.kill()
            process.join(5)
            ours.close()
            raise RuntimeError(
                f"a reader process did not start within {START_TIMEOUT:g} s "
                f"(exit status {process.exitcode}); is the machine out of memory or processes?"
            )
        return _Slot(process, ours)

    def _retire(self, slot: _Slot) -> None:
        """Kill a worker that crashed or ran late."""
        if slot.process.is_alive():
            slot.process.kill()
        slot.process.join(5)
        slot.conn.close()
        if slot in self.slots:
            self.slots.remove(slot)

    def _dead_reason(self, slot: _Slot) -> str:
        slot.process.join(5)
        code = slot.process.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            if -code == getattr(signal, "SIGXCPU", -1):
                return self.limits.too_slow()
            if -code == signal.SIGKILL:
                return "the reader was killed (SIGKILL), most likely for using too much memory"
            return f"the reader crashed ({name}); the file may be corrupt or hostile"
        return f"the reader process exited unexpectedly (status {code})"

    def read(self, jobs: Iterable[ReadJob]) -> Iterator[Work]:
        try:
            yield from self._read(deque(jobs))
        except (OSError, ValueError, EOFError):
            if not self.closed:  # closing from another thread breaks the pipes on purpose
                raise

    def _read(self, pending: deque[ReadJob]) -> Iterator[Work]:
        busy: list[_Slot] = []
        while (pending or busy) and not self.closed:
            while pending and len(busy) < self.workers:
                idle = next((s for s in self.slots if s.job is None), None)
                if idle is None:
                    idle = self._start()
                    self.slots.append(idle)
                idle.job = pending.popleft()
                idle.deadline = time.monotonic() + self.limits.file_timeout
                try:
                    idle.conn.send(idle.job)
                except OSError:
                    pass  # it died already: found below
                busy.append(idle)
            now = time.monotonic()
            timeout = max(0.0, min(s.deadline for s in busy) - now)
            ready = set(wait([s.conn for s in busy], timeout=timeout))
            if self.closed:
                return
            for slot in list(busy):
                job = slot.job
                assert job is not None
                if slot.conn in ready:
                    try:
                        work = slot.conn.recv()
                    except (EOFError, OSError):
                        work = Work(job.key, "failed", error=self._dead_reason(slot))
                        self._retire(slot)
                    except Exception as exc:  # a result that cannot be unpickled
                        work = Work(job.key, "failed", error=f"could not be read ({type(exc).__name__})")
                        self._retire(slot)
                    slot.job = None
                    busy.remove(slot)
                    yield work
                elif time.monotonic() >= slot.deadline:
                    self._retire(slot)
                    slot.job = None
                    busy.remove(slot)
                    yield Work(job.key, "failed", error=self.limits.too_slow())

    def close(self) -> None:
        """Stop every worker (idle ones are asked, busy ones killed); safe from another thread."""
        self.closed = True
        slots = list(self.slots)
        for slot in slots:
            if slot.job is None:
                try:
                    slot.conn.send(None)
                except OSError:
                    pass
        for slot in slots:
            slot.process.join(0.5 if slot.job is None else 0)
            self._retire(slot)
