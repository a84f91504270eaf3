"""`storydiff demo-server`: the command line of `compare.runs.demo_server` (the bundled fixture site)."""

from __future__ import annotations

from pathlib import Path

import click

from compare.errors import InputError
from compare.runs.demo_server import DEFAULT_PORT, FixtureServer, demo_site


@click.command("demo-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to listen on (examples/job.toml expects 8765).")
@click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Serve this folder instead of the bundled demo site.")
@click.option("--verbose", "-v", is_flag=True, help="Log every request.")
def demo_server_command(host: str, port: int, root: Path | None, verbose: bool) -> None:
    """Serve the bundled fixture feeds and pages on 127.0.0.1 for trying scheduled runs.

    Then, in another shell: storydiff run examples/job.toml. Stop with Ctrl-C.
    """
    try:
        server = FixtureServer(root or demo_site(), host, port, verbose=verbose)
    except OSError as exc:
        raise InputError(f"{host}:{port}: cannot listen there ({exc.strerror or exc}). Try --port.") from exc
    click.echo(f"storydiff demo site on {server.base_url}/ (feeds: {server.base_url}/harbour/rss.xml, "
               f"{server.base_url}/observer/atom.xml); Ctrl-C to stop.", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
