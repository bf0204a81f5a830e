"""``l-bom gui``: serve the local web GUI for the given folders and open it in the browser."""

from __future__ import annotations

import click


@click.command("gui")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=True, file_okay=False, path_type=str))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=7860, show_default=True, help="Port (0: any free).")
@click.option("--no-open-browser", is_flag=True, help="Only print the URL; do not open a browser.")
@click.option(
    "--token",
    help="Access token to require (default: a new random one). Required to listen on a non-loopback address.",
)
def gui_command(paths: tuple[str, ...], host: str, port: int, no_open_browser: bool, token: str | None) -> None:
    """Browse and scan model folders in a local web page.

    Only the PATH folders (default: the model stores found on this machine and the current folder) can be
    browsed or scanned. The printed URL carries a random access token; keep it private.
    """
    from lbom._cli import warn
    from lbom._web.roots import default_roots, store_folders
    from lbom._web.security import Roots, check_bind, is_loopback, new_token
    from lbom._web.server import make_server
    from lbom.errors import UsageError

    check_bind(host, token)
    roots = Roots(list(paths) if paths else default_roots())
    if not roots.displays:
        raise UsageError("no folder to serve: pass a PATH")
    if not is_loopback(host):
        warn(f"warning: listening on {host}, reachable from other machines; anyone with the token can scan the folders")
    try:
        server = make_server(host, port, roots, token if token is not None else new_token(), store_folders())
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    # A wildcard address (0.0.0.0, ::) is where the server listens, not an address a browser can go to: this
    # machine's browser reaches it over loopback, other machines over one of this machine's own addresses.
    wildcard = host.strip("[]") in ("0.0.0.0", "::")  # noqa: S104  # comparing, not binding
    url_host = ("[::1]" if ":" in host else "127.0.0.1") if wildcard else f"[{host}]" if ":" in host else host
    url = f"http://{url_host}:{server.port}/?token={server.config.token}"
    click.echo("l-bom GUI serving:")
    labels = server.config.labels
    for root in roots.displays:
        click.echo(f"  {root}" + (f"  ({labels[root]})" if root in labels else ""))
    click.echo(f"Open: {url}")
    if wildcard:
        click.echo(
            f"Listening on all interfaces ({host} port {server.port}): from another machine, use this machine's "
            f"address in place of {url_host}."
        )
    click.echo("Press Ctrl+C to stop.")
    if not no_open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()
