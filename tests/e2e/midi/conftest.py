"""A real JACK server for the MIDI tests (`jackd -d dummy`: no sound card needed).

Each server gets its own name (JACK_DEFAULT_SERVER, set only while a test runs) so that tests
never touch a JACK server someone else is running on the machine, and tests elsewhere never
meet ours. One server serves the session; a test that stops its server asks for
`private_jack_server` instead.

On a loaded machine (CI shares its cores) JACK can be slow to show a client's new port to other
clients, and it drops clients whose cycle runs late; so the server allows clients 2 s before it
gives up on them, and tests wait for a port to be listed (`wait_listed`) before they use it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

JACK_START_TIMEOUT_S = 10.0


class JackServer:
    """A jackd process on the dummy driver (48 kHz, 128-frame periods: 2.7 ms per cycle)."""

    def __init__(self, name: str, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1", JACK_DEFAULT_SERVER=self.name)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                ["jackd", "-n", self.name, "-t", "2000", "-d", "dummy", "-r", "48000", "-p", "128"],
                stdout=log, stderr=subprocess.STDOUT, env=env,
            )
        deadline = time.monotonic() + JACK_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.skip(f"jackd exited at start ({self.log_path.read_text(errors='replace')[-300:]})")
            if self._answers():
                return
            time.sleep(0.1)
        self.stop()
        pytest.skip(f"jackd did not come up within {JACK_START_TIMEOUT_S} s (log: {self.log_path})")

    def _answers(self) -> bool:
        """True once a client can connect; probes in a child process so that failed attempts
        leave no libjack state behind in the test process."""
        probe = (
            "import rtmidi,sys\n"
            "try:\n rtmidi.MidiOut(rtmidi.API_UNIX_JACK, 'probe')\nexcept Exception:\n sys.exit(1)\n"
        )
        env = dict(os.environ, JACK_DEFAULT_SERVER=self.name)
        result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, timeout=10)
        return result.returncode == 0

    def wait_listed(self, port: str, direction: str = "outputs", timeout: float = 5.0) -> None:
        """Wait until `port` ("client:port") is among the JACK ports Partita lists as `direction`
        ("outputs": ports Partita can send to; "inputs": ports it can listen to)."""
        from core.midi.duet import wait_for
        from core.midi.ports import list_ports

        def listed() -> bool:
            return port in [p.name for p in getattr(list_ports("jack"), direction)]

        assert wait_for(listed, timeout=timeout, poll_s=0.05), f"JACK did not list {port!r} within {timeout} s"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        # Clients of a stopped server leave their semaphores behind; they carry our unique name.
        for leftover in Path("/dev/shm").glob(f"jack_sem.*_{self.name}_*"):
            leftover.unlink(missing_ok=True)


@pytest.fixture
def in_own_process(request) -> bool:
    """For a test that may crash its process (libjack when its server dies): in the test process,
    run this one test alone in a child pytest and fail with the child's output if it fails or crashes;
    return False there. In the child, return True: go on with the test."""
    if os.environ.get("PARTITA_CHILD_TEST") == request.node.nodeid:
        return True
    env = dict(os.environ, PARTITA_CHILD_TEST=request.node.nodeid)
    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", request.node.nodeid],
        cwd=request.config.rootpath, env=env, capture_output=True, text=True, timeout=120,
    )
    if child.returncode != 0:
        pytest.fail(f"the test failed in its own process (exit {child.returncode}):\n"
                    f"{child.stdout[-3000:]}{child.stderr[-2000:]}", pytrace=False)
    return False


@pytest.fixture(scope="session")
def jack_process(tmp_path_factory):
    """One jackd for the whole session (started on first use, stopped at the end)."""
    if shutil.which("jackd") is None:
        pytest.skip("jackd not installed (Debian: apt install jackd2; ./test installs it)")
    server = JackServer(f"partita-test-{os.getpid()}", tmp_path_factory.mktemp("jack"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def jack_server(jack_process, monkeypatch):
    """The session's JACK server, made the default for clients this test opens (only during the
    test, so that other test folders never meet it)."""
    monkeypatch.setenv("JACK_DEFAULT_SERVER", jack_process.name)
    return jack_process


@pytest.fixture
def private_jack_server(jack_process, tmp_path, monkeypatch):
    """A JACK server of this test's own (which it may stop)."""
    server = JackServer(f"partita-private-{os.getpid()}-{time.monotonic_ns() % 10**6}", tmp_path)
    server.start()
    monkeypatch.setenv("JACK_DEFAULT_SERVER", server.name)
    yield server
    server.stop()
