"""A throwaway redis-server on a free loopback port, for the room-store and proxy tests."""
import contextlib
import shutil
import subprocess
import tempfile
import time

from tests.streamlit_server import free_port

REDIS_SERVER = "redis-server"


def redis_unavailable_reason() -> str | None:
    """Why the Redis tests cannot run here, or None when they can."""
    try:
        import redis  # noqa: F401
    except ImportError:
        return "the redis package is not installed (pip install -r requirements.txt)"
    if shutil.which(REDIS_SERVER) is None:
        return "no redis-server on PATH (apt-get install redis-server)"
    return None


@contextlib.contextmanager
def running_redis(startup_timeout: float = 20.0):
    """Start redis-server with no persistence in a temporary folder; yield its URL (redis://127.0.0.1:port/0)."""
    import redis

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="classroom-redis-") as folder:
        process = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no", "--dir", folder, "--logfile", f"{folder}/redis.log"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            client = redis.Redis.from_url(url)
            deadline = time.monotonic() + startup_timeout
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not start on port {port}") from None
                    time.sleep(0.05)
            client.close()
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
